# The single public base URL: a global external Application Load Balancer with one serverless
# NEG and backend service per HTTP function, routed by each function's manifest `routes`
# (docs/decisions/0008-public-base-url.md says why not API Gateway).

resource "google_compute_global_address" "api" {
  name = "studio-api"
}

resource "google_compute_managed_ssl_certificate" "api" {
  name = "studio-api-${replace(var.domain, ".", "-")}" # a new domain is a new certificate (create before destroy)

  managed {
    domains = [var.domain]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "api" {
  name            = "studio-api-tls12"
  profile         = "RESTRICTED"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_region_network_endpoint_group" "function" {
  for_each = local.http_functions

  name                  = "studio-${each.value.id}"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_function {
    function = google_cloudfunctions2_function.function[each.key].name
  }
}

resource "google_compute_backend_service" "function" {
  for_each = local.http_functions

  name                  = "studio-${each.value.id}"
  description           = "studio ${each.key} (routes: ${join(" ", each.value.routes)})"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  security_policy       = var.enable_cloud_armor ? google_compute_security_policy.api[0].id : null

  backend {
    group = google_compute_region_network_endpoint_group.function[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

resource "google_compute_url_map" "api" {
  name            = "studio-api"
  description     = "Routes of functions/manifest.yaml; unclaimed paths go to ${local.default_http_function} (a problem+json 404)."
  default_service = google_compute_backend_service.function[local.default_http_function].id

  host_rule {
    hosts        = [var.domain]
    path_matcher = "functions"
  }

  path_matcher {
    name            = "functions"
    default_service = google_compute_backend_service.function[local.default_http_function].id

    dynamic "path_rule" {
      for_each = local.route_paths
      content {
        paths   = path_rule.value
        service = google_compute_backend_service.function[path_rule.key].id
      }
    }

    dynamic "path_rule" {
      for_each = google_compute_backend_service.realtime
      content {
        paths   = ["/sse/*", "/ws/*"]
        service = path_rule.value.id
      }
    }
  }
}

resource "google_compute_target_https_proxy" "api" {
  name             = "studio-api"
  url_map          = google_compute_url_map.api.id
  ssl_certificates = [google_compute_managed_ssl_certificate.api.id]
  ssl_policy       = google_compute_ssl_policy.api.id
}

resource "google_compute_global_forwarding_rule" "https" {
  name                  = "studio-api-https"
  target                = google_compute_target_https_proxy.api.id
  ip_address            = google_compute_global_address.api.id
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

# Plain HTTP only redirects to HTTPS.
resource "google_compute_url_map" "https_redirect" {
  name = "studio-api-https-redirect"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "redirect" {
  name    = "studio-api-redirect"
  url_map = google_compute_url_map.https_redirect.id
}

resource "google_compute_global_forwarding_rule" "http" {
  name                  = "studio-api-http"
  target                = google_compute_target_http_proxy.redirect.id
  ip_address            = google_compute_global_address.api.id
  port_range            = "80"
  load_balancing_scheme = "EXTERNAL_MANAGED"
}

# Cloud Armor: a per-IP throttle over the whole API (the per-tenant limit stays in the
# functions, decision 0004), the Log4j rule, and Google's preconfigured SQLi/XSS rules.
resource "google_compute_security_policy" "api" {
  count = var.enable_cloud_armor ? 1 : 0

  name        = "studio-api"
  description = "Per-IP throttle and WAF rules in front of every studio function."

  rule {
    action      = "deny(403)"
    priority    = 1000
    description = "Log4j2 message lookup (CVE-2021-44228)"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  rule {
    action      = "deny(403)"
    priority    = 1100
    description = "SQL injection and cross-site scripting (preconfigured WAF, sensitivity 1)"
    # Log only: chat messages and prompts legitimately contain code. Review the matches in
    # the load balancer logs before enforcing (preview = false) per environment.
    preview = true
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('sqli-v33-stable', {'sensitivity': 1}) || evaluatePreconfiguredWaf('xss-v33-stable', {'sensitivity': 1})"
      }
    }
  }

  rule {
    action      = "throttle"
    priority    = 2000
    description = "At most ${var.rate_limit_per_ip_per_minute} requests per minute per client IP"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.rate_limit_per_ip_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow (authentication is the functions' job)"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

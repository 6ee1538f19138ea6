# The realtime broker (decisions 0075, 0076), on only with var.realtime_broker: a Memorystore for
# Redis instance on a private network, reached from the realtime gateway (Cloud Run) and from the
# functions that write chat messages (chat, agent_pipeline) by Direct VPC egress. The chat write
# path publishes a hint carrying the committed message on the thread's channel after each commit; the
# gateway instances holding the thread deliver it from the hint and read Firestore from their cursor
# only on a gap (decision 0106). Firestore stays the durable log: losing the broker delays live
# pushes, never loses a message.
#
# The broker's URL carries its AUTH string, so it is a secret whose version ops add once the instance
# exists (no secret value in this repository or set by Terraform):
#   printf 'rediss://:%s@%s:%s/0' "$(gcloud redis instances get-auth-string studio-broker --region=REGION \
#     --format='value(authString)')" HOST PORT | gcloud secrets versions add realtime-broker-url --data-file=-
# (HOST and PORT: the broker_endpoint output). Its TLS server CA is public and passed in plain.

locals {
  broker = var.realtime_broker ? 1 : 0
  # The functions that publish hints (they write chat messages and chunks): the manifest's `broker` extra.
  broker_publishers = toset(var.realtime_broker ? local.broker_extra_functions : [])
  broker_env = var.realtime_broker ? {
    STUDIO_REALTIME_BROKER_CA = google_redis_instance.broker[0].server_ca_certs[0].cert
  } : {}
  # The gateway's safety poll re-reads every open feed (2 Firestore reads each): at the target's
  # 1,000,000 feeds, ~$104,000/month at the local default of 30 s, ~$10,400 at 300 s (decision 0106).
  broker_gateway_env = var.realtime_broker ? { STUDIO_BROKER_SAFETY_POLL_S = "300" } : {}
  broker_secret_env  = var.realtime_broker ? { STUDIO_REALTIME_BROKER = google_secret_manager_secret.broker_url[0].secret_id } : {}
  broker_vpc = var.realtime_broker ? {
    network    = google_compute_network.studio[0].id
    subnetwork = google_compute_subnetwork.serverless[0].id
  } : null
  broker_readers = var.realtime_broker ? merge(
    { realtime = google_service_account.realtime.email },
    { for f in local.broker_publishers : f => google_service_account.function[f].email },
  ) : {}
}

resource "google_compute_network" "studio" {
  count = local.broker

  name                    = "studio"
  description             = "The studio's private network: the realtime broker and Cloud Run's Direct VPC egress."
  auto_create_subnetworks = false

  depends_on = [google_project_service.api]
}

# Nothing listens in this network: Cloud Run's egress and the broker's replies (stateful) need no ingress.
resource "google_compute_firewall" "deny_ingress" {
  count = local.broker

  name          = "studio-deny-ingress"
  network       = google_compute_network.studio[0].id
  direction     = "INGRESS"
  priority      = 65534
  source_ranges = ["0.0.0.0/0"]

  deny {
    protocol = "all"
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_subnetwork" "serverless" {
  count = local.broker

  name                     = "studio-serverless"
  region                   = var.region
  network                  = google_compute_network.studio[0].id
  ip_cidr_range            = var.broker_subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.1
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_redis_instance" "broker" {
  count = local.broker

  name               = "studio-broker"
  display_name       = "studio realtime broker (hints and presence; decision 0075)"
  region             = var.region
  tier               = var.broker_tier
  memory_size_gb     = var.broker_memory_size_gb
  redis_version      = "REDIS_7_2"
  authorized_network = google_compute_network.studio[0].id
  connect_mode       = "DIRECT_PEERING"
  # Clients authenticate (AUTH) and verify the server (TLS): hints name tenants, threads and users.
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"
  customer_managed_key    = local.kms_key

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret" "broker_url" {
  count = local.broker

  secret_id = "realtime-broker-url"

  replication {
    auto {
      dynamic "customer_managed_encryption" {
        for_each = local.kms_key == null ? [] : [local.kms_key]
        content {
          kms_key_name = customer_managed_encryption.value
        }
      }
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_secret_manager_secret_iam_member" "broker_url_reader" {
  for_each = local.broker_readers

  secret_id = google_secret_manager_secret.broker_url[0].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${each.value}"
}

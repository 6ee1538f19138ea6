# The configuration every function starts with. Manifest-derived locals: manifest.tf.

locals {
  bucket_env = {
    for role in local.bucket_roles : "STUDIO_BUCKET_${upper(replace(role, "-", "_"))}" => google_storage_bucket.role[role].name
  }

  # The environment every function starts with (studio/config.py reads it).
  common_env = merge({
    STUDIO_ADAPTERS           = "gcp"
    STUDIO_AUTH               = "firebase"
    GOOGLE_CLOUD_PROJECT      = var.project
    GOOGLE_CLOUD_LOCATION     = var.region
    FIREBASE_PROJECT_ID       = var.project
    STUDIO_FIRESTORE_DATABASE = google_firestore_database.main.name
    STUDIO_PUBLIC_URL         = "https://${var.domain}"
    STUDIO_ENVIRONMENT        = var.environment
    STUDIO_CORS_ORIGINS       = join(",", var.cors_origins)
    STUDIO_ANALYTICS_DATASET  = var.analytics_dataset
    LOG_EXECUTION_ID          = "true"
    # Every HTTP request arrives through the external Application Load Balancer (ingress admits
    # nothing else), which appends "<client>, <load balancer>" to X-Forwarded-For: per-IP limits
    # count the client entry (shared/studio/kernel/client_ip.py).
    STUDIO_TRUSTED_PROXY_HOPS = "2"
  }, local.bucket_env)
}

data "google_project" "current" {
  project_id = var.project
}

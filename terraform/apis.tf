# The Google APIs the platform uses. disable_on_destroy = false: destroying this stack must
# not switch off an API another stack (or the state bucket) in the project relies on.
locals {
  services = toset(concat([
    "aiplatform.googleapis.com",       # Vertex AI (functions with the llm extra)
    "artifactregistry.googleapis.com", # function images
    "bigquery.googleapis.com",         # the analytics store (analytics.tf)
    "cloudbuild.googleapis.com",       # function builds
    "cloudbilling.googleapis.com",     # the billing probe (/debug/cloud-billing-probe)
    "cloudfunctions.googleapis.com",
    "compute.googleapis.com",         # load balancer, serverless NEGs, Cloud Armor
    "eventarc.googleapis.com",        # Pub/Sub, storage and Firestore triggers
    "firebaserules.googleapis.com",   # Firestore security rules
    "firestore.googleapis.com",       # documents
    "iam.googleapis.com",             # service accounts
    "iamcredentials.googleapis.com",  # signBlob for V4 signed URLs
    "identitytoolkit.googleapis.com", # Firebase Auth / Identity Platform ID tokens
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "redis.googleapis.com", # Memorystore: the realtime broker (broker.tf), when var.realtime_broker
    "run.googleapis.com",   # gen2 functions run on Cloud Run
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ], var.kms_key_name != "" ? ["cloudkms.googleapis.com"] : []))
}

resource "google_project_service" "api" {
  for_each = local.services

  project            = var.project
  service            = each.value
  disable_on_destroy = false
}

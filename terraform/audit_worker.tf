# The audit worker (functions/audit_worker, infra/audit_worker/Dockerfile) on Cloud Run: Chromium does
# not fit a Cloud Function. Pub/Sub pushes each audits.jobs message to it as the same CloudEvent the
# local bus delivers (decision 0063); failures retry with backoff, then go to the dead-letter topic.

locals {
  audit_worker          = var.audit_worker_image == "" ? 0 : 1 # the worker and its subscription exist once it has an image
  audit_worker_identity = "serviceAccount:${google_service_account.audit_worker.email}"
}

resource "google_service_account" "audit_worker" {
  account_id   = "svc-audit-worker"
  display_name = "studio audit worker"
}

resource "google_service_account" "audit_push" {
  account_id   = "svc-audit-push"
  display_name = "Pub/Sub push identity for the audit worker"
}

module "audit_worker" {
  source = "./modules/cloud_run_service"
  count  = local.audit_worker

  name            = "studio-audit-worker"
  location        = var.region
  ingress         = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  service_account = google_service_account.audit_worker.email
  image           = var.audit_worker_image
  timeout         = "300s"
  concurrency     = 1 # one Chromium per instance: audits are CPU-bound
  max_instances   = 5
  cpu             = "2"
  memory          = "2Gi"
  env             = merge(local.common_env, { STUDIO_FUNCTION = "audit_worker" })
}

resource "google_cloud_run_v2_service_iam_member" "audit_push_invoker" {
  count    = local.audit_worker
  name     = module.audit_worker[0].name
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.audit_push.email}"
}

resource "google_pubsub_subscription" "audit_worker" {
  count = local.audit_worker

  name                 = "audit-worker-push"
  topic                = google_pubsub_topic.topic["audits.jobs"].id
  ack_deadline_seconds = 300

  push_config {
    push_endpoint = module.audit_worker[0].uri
    oidc_token {
      service_account_email = google_service_account.audit_push.email
    }
    no_wrapper {
      write_metadata = true
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["audits.jobs.dead-letter"].id
    max_delivery_attempts = 5
  }
}

# Reads and writes audit documents; publishes progress to realtime.meta (the outbox relay carries the rest).
resource "google_project_iam_member" "audit_worker_datastore" {
  project = var.project
  role    = "roles/datastore.user"
  member  = local.audit_worker_identity
}

resource "google_pubsub_topic_iam_member" "audit_worker_meta_publisher" {
  project = var.project
  topic   = google_pubsub_topic.topic["realtime.meta"].name
  role    = "roles/pubsub.publisher"
  member  = local.audit_worker_identity
}

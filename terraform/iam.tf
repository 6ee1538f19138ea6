# Identities, least privilege. Each function runs as its own service account and gets only
# what its manifest entry implies; nothing here grants a primitive role (owner/editor/viewer).

resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = local.service_account_ids[each.key]
  display_name = "studio function ${each.key}"
  description  = "Runtime identity of the ${each.key} Cloud Function (${local.functions[each.key].kind} trigger)."

  lifecycle {
    precondition {
      condition     = length(distinct(values(local.service_account_ids))) == length(local.service_account_ids)
      error_message = "Two manifest names truncate to the same service account id (30 characters): shorten one."
    }
  }
}

# Builds the functions' images (Cloud Build), instead of the default compute account.
resource "google_service_account" "builder" {
  account_id   = "fn-builder"
  display_name = "studio function builder"
  description  = "Cloud Build identity for building the functions' images from their source zips."
}

# Eventarc's identity when it pushes an event to a function (trigger service account).
resource "google_service_account" "eventarc" {
  account_id   = "fn-eventarc-invoker"
  display_name = "studio Eventarc invoker"
  description  = "Invokes the event functions for their Eventarc triggers (Pub/Sub, storage, Firestore)."
}

# -- function runtime roles ----------------------------------------------------------------

# Firestore: every function reads and writes documents (sessions, memberships, dedupe
# markers, the outbox). datastore.user is the narrowest predefined role for data access;
# Firestore IAM has no per-collection scope (tenant isolation is the code's, rules are for clients).
resource "google_project_iam_member" "firestore_user" {
  for_each = local.functions

  project = var.project
  role    = "roles/datastore.user"
  member  = google_service_account.function[each.key].member
}

# Vertex AI (Gemini, embeddings) only for functions that vendor the llm dependency group.
resource "google_project_iam_member" "vertex_user" {
  for_each = { for k, f in local.functions : k => f if contains(f.extras, "llm") }

  project = var.project
  role    = "roles/aiplatform.user"
  member  = google_service_account.function[each.key].member
}

# What a manifest entry lists in iam_roles, e.g. Firebase Auth admin for the function that writes
# the accounts' custom claims. Predefined service roles only (infra/localrun/manifest.py checks the
# manifest; the precondition holds a hand edit to the same rule).
resource "google_project_iam_member" "function_role" {
  for_each = local.role_grants

  project = var.project
  role    = each.value.role
  member  = google_service_account.function[each.value.function].member

  lifecycle {
    precondition {
      condition     = can(regex("^roles/[a-z][a-zA-Z0-9]*[.][a-zA-Z0-9.]+$", each.value.role))
      error_message = "iam_roles of ${each.value.function}: ${each.value.role} is not a predefined service role (never owner/editor/viewer)."
    }
  }
}

# Publish on each application topic (not on dead-letter topics), per topic rather than project-wide.
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.publisher_grants

  topic  = google_pubsub_topic.topic[each.value.topic].id
  role   = "roles/pubsub.publisher"
  member = google_service_account.function[each.value.function].member
}

# Objects in the role buckets this function handles (bucket-level, never project-wide).
resource "google_storage_bucket_iam_member" "object_admin" {
  for_each = local.bucket_grants

  bucket = google_storage_bucket.role[each.value.role].name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.function[each.value.function].member
}

# V4 signed URLs: with no key file, the storage client signs through IAM signBlob as the
# function's own account, which needs Token Creator on itself (and on nothing else).
resource "google_service_account_iam_member" "self_sign" {
  for_each = local.url_signers

  service_account_id = google_service_account.function[each.value].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.function[each.value].member
}

# Read the secrets the function needs, one secret at a time.
resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secret_grants

  secret_id = google_secret_manager_secret.secret[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.function[each.value.function].member
}

# -- the builder ---------------------------------------------------------------------------

resource "google_project_iam_member" "builder_logs" {
  project = var.project
  role    = "roles/logging.logWriter" # build logs
  member  = google_service_account.builder.member
}

resource "google_artifact_registry_repository_iam_member" "builder_push" {
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer" # push the images, to this repository only
  member     = google_service_account.builder.member
}

resource "google_storage_bucket_iam_member" "builder_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer" # read the source zips
  member = google_service_account.builder.member
}

# -- Eventarc ------------------------------------------------------------------------------

# Invoke exactly the event functions' Cloud Run services (a gen2 function is one).
resource "google_cloud_run_v2_service_iam_member" "eventarc_invoker" {
  for_each = local.event_functions

  project  = var.project
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = google_service_account.eventarc.member
}

# Receive direct events (Cloud Storage, Firestore). Only grantable on the project.
resource "google_project_iam_member" "eventarc_receiver" {
  count = length([for f in local.event_functions : f if f.kind != "pubsub"]) > 0 ? 1 : 0

  project = var.project
  role    = "roles/eventarc.eventReceiver"
  member  = google_service_account.eventarc.member
}

# Cloud Storage triggers: the project's Cloud Storage service agent publishes the
# notifications Eventarc turns into events (Google's documented prerequisite).
data "google_storage_project_service_account" "gcs" {
  project = var.project
}

resource "google_project_iam_member" "gcs_agent_publisher" {
  count = length([for f in local.event_functions : f if f.kind == "storage"]) > 0 ? 1 : 0

  project = var.project
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}

# -- HTTP functions behind the load balancer ----------------------------------------------

# The load balancer calls the HTTP functions without a Google identity, so their Cloud Run
# services admit allUsers; ingress ALLOW_INTERNAL_AND_GCLB (functions.tf) means only the load
# balancer (and VPC-internal callers) can reach them at all. Every route then checks the
# bearer token itself (deny by default: kernel/http_app.py).
resource "google_cloud_run_v2_service_iam_member" "public_invoker" {
  for_each = local.http_functions

  project  = var.project
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

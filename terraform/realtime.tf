# The realtime gateway (SSE + WebSocket, infra/realtime/) on Cloud Run, behind the same load
# balancer: /sse/* and /ws/* route here. Streams may stay open up to Cloud Run's 60-minute
# limit; clients resume exactly when it ends them (docs/realtime.md).

locals {
  realtime          = var.realtime_image == "" ? 0 : 1 # the gateway and its routing exist once it has an image
  realtime_identity = "serviceAccount:${google_service_account.realtime.email}"
}

resource "google_service_account" "realtime" {
  account_id   = "svc-realtime"
  display_name = "studio realtime gateway"
}

module "realtime" {
  source = "./modules/cloud_run_service"
  count  = local.realtime

  name             = "studio-realtime"
  location         = var.region
  ingress          = "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"
  service_account  = google_service_account.realtime.email
  image            = var.realtime_image
  timeout          = "3600s"
  concurrency      = 1000 # Cloud Run's cap: each open stream is one request (docs/scale.md)
  session_affinity = true # a reconnecting client resumes on the instance that has its feeds open
  min_instances    = var.realtime_min_instances
  max_instances    = var.realtime_max_instances
  memory           = "1Gi"
  # The gateway creates its own per-instance subscription to realtime.meta (a fan-out needs one each).
  # Presence and typing are shared by the instances: over the broker's keys when it is on (decision
  # 0076), else over realtime.presence (decision 0072). Feeds follow the broker's per-thread channels
  # when it is on (decisions 0075, 0106), else Firestore listeners.
  env        = merge(local.common_env, { STUDIO_PUBSUB_CREATE_MISSING = "1", STUDIO_FLEET_PRESENCE = "1" }, local.broker_env, local.broker_gateway_env)
  secret_env = local.broker_secret_env
  vpc        = local.broker_vpc
}

# Reads chat documents and tickets (redeeming one deletes it), follows them with listeners.
resource "google_project_iam_member" "realtime_datastore" {
  project = var.project
  role    = "roles/datastore.user"
  member  = local.realtime_identity
}

# The meta channel: each instance makes its own subscription to realtime.meta and pulls it;
# posting a message publishes to chat.messages through the outbox relay, not from here.
resource "google_pubsub_topic_iam_member" "realtime_meta_subscriber" {
  project = var.project
  topic   = google_pubsub_topic.topic["realtime.meta"].name
  role    = "roles/pubsub.subscriber"
  member  = local.realtime_identity
}

# Presence between instances (decision 0072): each publishes its joins, leaves and rosters and
# pulls everyone else's on its own subscription.
resource "google_pubsub_topic_iam_member" "realtime_presence_subscriber" {
  project = var.project
  topic   = google_pubsub_topic.topic["realtime.presence"].name
  role    = "roles/pubsub.subscriber"
  member  = local.realtime_identity
}

resource "google_pubsub_topic_iam_member" "realtime_presence_publisher" {
  project = var.project
  topic   = google_pubsub_topic.topic["realtime.presence"].name
  role    = "roles/pubsub.publisher"
  member  = local.realtime_identity
}

resource "google_project_iam_member" "realtime_subscription_editor" {
  project = var.project
  role    = "roles/pubsub.editor" # creates its per-instance subscription; Pub/Sub has no narrower role for that
  member  = local.realtime_identity
}

# Like the functions: reachable only through the load balancer; every stream checks its ticket or token.
resource "google_cloud_run_v2_service_iam_member" "realtime_public_invoker" {
  count = local.realtime

  project  = var.project
  location = var.region
  name     = module.realtime[0].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_compute_region_network_endpoint_group" "realtime" {
  count = local.realtime

  name                  = "studio-realtime"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = module.realtime[0].name
  }
}

resource "google_compute_backend_service" "realtime" {
  count = local.realtime

  name                  = "studio-realtime"
  description           = "studio realtime gateway (/sse/*, /ws/*)"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  protocol              = "HTTPS"
  timeout_sec           = 3600
  security_policy       = var.enable_cloud_armor ? google_compute_security_policy.api[0].id : null

  backend {
    group = google_compute_region_network_endpoint_group.realtime[0].id
  }

  log_config {
    enable      = true
    sample_rate = 1.0
  }
}

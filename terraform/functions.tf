# Every manifest function as a gen2 Cloud Function, built from its zip (main.py, its pinned
# requirements.txt and the studio library: infra/packaging/build_zips.py).

resource "google_artifact_registry_repository" "functions" {
  repository_id = "functions"
  location      = var.region
  format        = "DOCKER"
  description   = "Images of the studio Cloud Functions (built by Cloud Build from the source zips)."
  kms_key_name  = local.kms_key

  # Keep the images of the last few deploys (rollback by traffic), drop the rest.
  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s" # 30 days
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name         = each.value.id
  location     = var.region
  description  = "studio ${each.key}: ${each.value.kind} trigger (functions/manifest.yaml)"
  kms_key_name = local.kms_key

  build_config {
    runtime           = "python311"
    entry_point       = each.value.entrypoint
    service_account   = google_service_account.builder.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory               = each.value.memory
    timeout_seconds                = each.value.timeout
    min_instance_count             = each.value.min_instances
    max_instance_count             = each.value.max_instances
    service_account_email          = google_service_account.function[each.key].email
    all_traffic_on_latest_revision = true

    # more than one event at once needs a whole vCPU per event (the chunk worker runs ffmpeg per event)
    max_instance_request_concurrency = each.value.concurrency
    available_cpu                    = each.value.concurrency > 1 ? tostring(each.value.concurrency) : null

    # HTTP: only the load balancer (and the VPC) reaches the function. Events: only Google's
    # internal sources (Eventarc, Pub/Sub push).
    ingress_settings = each.value.kind == "http" ? "ALLOW_INTERNAL_AND_GCLB" : "ALLOW_INTERNAL_ONLY"
    environment_variables = merge(local.common_env, { STUDIO_FUNCTION = each.key },
    contains(local.broker_publishers, each.key) ? local.broker_env : {})

    # The functions that write chat messages publish the broker's hints (broker.tf, decision 0075):
    # the broker's URL from Secret Manager, its private address by Direct VPC egress.
    direct_vpc_egress = contains(local.broker_publishers, each.key) ? "VPC_EGRESS_PRIVATE_RANGES_ONLY" : null

    dynamic "direct_vpc_network_interface" {
      for_each = contains(local.broker_publishers, each.key) ? [local.broker_vpc] : []
      content {
        network    = direct_vpc_network_interface.value.network
        subnetwork = direct_vpc_network_interface.value.subnetwork
      }
    }

    dynamic "secret_environment_variables" {
      for_each = contains(local.broker_publishers, each.key) ? local.broker_secret_env : {}
      content {
        key        = secret_environment_variables.key
        project_id = var.project
        secret     = secret_environment_variables.value
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = each.value.kind == "http" ? [] : [each.value]
    content {
      event_type            = local.event_types[event_trigger.value.kind]
      retry_policy          = "RETRY_POLICY_RETRY" # at-least-once: failures are retried, then dead-lettered
      service_account_email = google_service_account.eventarc.email
      # Direct events arrive where their source lives: the bucket's region, Firestore's location.
      trigger_region = event_trigger.value.kind == "firestore" ? local.firestore_location : var.region
      pubsub_topic   = event_trigger.value.kind == "pubsub" ? google_pubsub_topic.topic[event_trigger.value.target].id : null

      dynamic "event_filters" {
        for_each = event_trigger.value.kind == "storage" ? { bucket = google_storage_bucket.role[event_trigger.value.target].name } : {}
        content {
          attribute = event_filters.key
          value     = event_filters.value
        }
      }

      dynamic "event_filters" {
        for_each = event_trigger.value.kind == "firestore" ? { database = google_firestore_database.main.name } : {}
        content {
          attribute = event_filters.key
          value     = event_filters.value
        }
      }

      dynamic "event_filters" {
        for_each = event_trigger.value.kind == "firestore" ? { document = "${event_trigger.value.target}/{doc}" } : {}
        content {
          attribute = event_filters.key
          value     = event_filters.value
          operator  = "match-path-pattern"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = each.value.kind == "http" || contains(keys(local.event_types), each.value.kind)
      error_message = "Trigger kind ${each.value.kind} of ${each.key} has no event type in local.event_types (main.tf)."
    }
    precondition {
      condition     = each.value.kind != "http" || length(each.value.routes) > 0
      error_message = "HTTP function ${each.key} lists no routes: the load balancer could not reach it."
    }
  }

  depends_on = [
    google_project_service.api,
    google_project_iam_member.eventarc_receiver,
    google_project_iam_member.gcs_agent_publisher,
    google_storage_bucket_iam_member.builder_source,
    google_artifact_registry_repository_iam_member.builder_push,
    google_project_iam_member.builder_logs,
  ]
}

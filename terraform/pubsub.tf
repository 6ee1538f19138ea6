# Topics, dead-letter topics and the subscriptions that keep dead letters.
#
# Event functions are triggered through Eventarc (functions.tf), which creates and owns the
# push subscription of each trigger. Neither the Eventarc API nor the provider lets a trigger
# set that subscription's dead-letter policy (hashicorp/terraform-provider-google#17697,
# #25069), so terraform/scripts/attach-dead-letters.sh, run by Cloud Build after every apply,
# sets it from the `event_triggers` output. Everything it needs is created here: the
# dead-letter topics, the Pub/Sub service agent's right to publish to them, and a pull
# subscription on each that holds dead letters for inspection and replay.

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.current.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "topic" {
  for_each = local.topics

  name                       = each.value
  kms_key_name               = local.kms_key
  message_retention_duration = "86400s" # a day of replay (seek) for a consumer that fell behind
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.dead_letter_topics

  name         = each.value
  kms_key_name = local.kms_key
}

# A topic with no subscription drops what it receives: this one keeps the dead letters.
resource "google_pubsub_subscription" "dead_letter_hold" {
  for_each = local.dead_letter_topics

  name                       = "${each.value}.hold"
  topic                      = google_pubsub_topic.dead_letter[each.value].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s" # 7 days, the maximum
  retain_acked_messages      = false

  expiration_policy {
    ttl = "" # never expires for inactivity
  }
}

# Dead-lettering republishes as the Pub/Sub service agent.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_letter_topics

  topic  = google_pubsub_topic.dead_letter[each.value].id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

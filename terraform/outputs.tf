# Every URL and name ops and the Cloud Build steps need.

output "base_url" {
  description = "The single public base URL (after DNS points var.domain at lb_ip and the certificate is ACTIVE)."
  value       = "https://${var.domain}"
}

output "lb_ip" {
  description = "The load balancer's address: create the DNS A record var.domain -> this."
  value       = google_compute_global_address.api.address
}

output "route_urls" {
  description = "Each manifest route prefix -> its public URL (and the function that answers it)."
  value = merge([
    for k, f in local.http_functions : { for r in f.routes : r => { url = "https://${var.domain}${r}", function = k } }
  ]...)
}

output "health_urls" {
  description = "Each HTTP function's public health route (decision 0007)."
  value       = { for k in keys(local.http_functions) : k => "https://${var.domain}/healthz/${k}" }
}

output "function_urls" {
  description = "Each function's own URL. Internal: ingress admits only the load balancer (HTTP) or Eventarc (events)."
  value       = { for k, f in google_cloudfunctions2_function.function : k => f.url }
}

output "service_accounts" {
  description = "Each function's runtime service account."
  value       = { for k, sa in google_service_account.function : k => sa.email }
}

output "buckets" {
  description = "Bucket role -> bucket name (the functions' STUDIO_BUCKET_<ROLE>)."
  value       = { for role, b in google_storage_bucket.role : role => b.name }
}

output "bucket_urls" {
  description = "Bucket role -> gs:// URL."
  value       = { for role, b in google_storage_bucket.role : role => b.url }
}

output "topics" {
  description = "Application topics and their dead-letter topics."
  value = {
    topics       = [for t in google_pubsub_topic.topic : t.id]
    dead_letters = [for t in google_pubsub_topic.dead_letter : t.id]
  }
}

output "event_triggers" {
  description = "Each event function's Eventarc trigger and the dead-letter topic attach-dead-letters.sh sets on its subscription."
  value = {
    for k, f in local.event_functions : k => {
      trigger               = google_cloudfunctions2_function.function[k].event_trigger[0].trigger
      dead_letter_topic     = google_pubsub_topic.dead_letter[local.dead_letter_of[k]].id
      max_delivery_attempts = var.dead_letter_max_attempts
    }
  }
}

output "firestore_database" {
  description = "The Firestore database the functions use."
  value       = google_firestore_database.main.name
}

output "secrets" {
  description = "Secret Manager secret ids (add versions with gcloud)."
  value       = [for s in google_secret_manager_secret.secret : s.secret_id]
}

output "realtime_urls" {
  description = "The realtime gateway behind the base URL (SSE and WebSocket), and its own Cloud Run URL."
  value = {
    sse       = "https://${var.domain}/sse/chat/{thread_id}"
    websocket = "wss://${var.domain}/ws/chat/{thread_id}"
    service   = one(module.realtime[*].uri)
  }
}

output "broker_endpoint" {
  description = "The realtime broker's private address (host:port; TLS), when var.realtime_broker: the secret realtime-broker-url is rediss://:<AUTH>@<this>/0."
  value       = var.realtime_broker ? "${google_redis_instance.broker[0].host}:${google_redis_instance.broker[0].port}" : null
}

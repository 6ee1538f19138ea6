# The analytics store on BigQuery (decision 0055): the dataset, the table rows land in, the view
# queries read, and the Pub/Sub-to-BigQuery subscription that loads the table from `analytics.events`.
#
# Rows arrive at least once (Pub/Sub redelivers; insertAll's insertId is best effort), so the table is
# `events_raw` and every query reads `events`, a view keeping the first row per event_id: the port's
# "idempotent per event_id" holds where it can hold for sure, at read time. The columns are those of
# shared/studio/ports/analytics.py (COLUMNS); tests/infra/test_terraform.py checks they agree.

locals {
  analytics_columns = {
    tenant_id     = "STRING", env = "STRING", site_id = "STRING", event_id = "STRING", type = "STRING",
    ts            = "TIMESTAMP", anonymous_id = "STRING", user_id = "STRING", session_id = "STRING", url = "STRING",
    canonical_url = "STRING", page_type = "STRING", surface = "STRING", referrer = "STRING",
    utm_source    = "STRING", utm_medium = "STRING", utm_campaign = "STRING", utm_term = "STRING",
    utm_content   = "STRING", name = "STRING", value = "FLOAT", props = "STRING",
  }
  analytics_required = ["tenant_id", "env", "event_id", "type", "ts"]
}

resource "google_bigquery_dataset" "analytics" {
  dataset_id    = var.analytics_dataset
  location      = var.analytics_location
  description   = "Browser and product analytics events (shared/studio/ports/analytics.py)"
  friendly_name = "Studio analytics"

  dynamic "default_encryption_configuration" {
    for_each = local.kms_key == null ? [] : [local.kms_key]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_bigquery_table" "events_raw" {
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "events_raw"
  deletion_protection = true

  time_partitioning {
    type  = "DAY"
    field = "ts"
  }
  clustering = ["tenant_id", "env", "type"] # every query filters on the tenant and env first

  dynamic "encryption_configuration" {
    for_each = local.kms_key == null ? [] : [local.kms_key]
    content {
      kms_key_name = encryption_configuration.value
    }
  }

  schema = jsonencode([for name, kind in local.analytics_columns : {
    name = name, type = kind, mode = contains(local.analytics_required, name) ? "REQUIRED" : "NULLABLE"
  }])
}

resource "google_bigquery_table" "events" {
  #checkov:skip=CKV_GCP_80:A view stores no data; events_raw beneath it is encrypted with the CMEK when one is set.
  dataset_id          = google_bigquery_dataset.analytics.dataset_id
  table_id            = "events"
  deletion_protection = true

  view {
    use_legacy_sql = false
    query          = <<-SQL
      SELECT * EXCEPT (rn) FROM (
        SELECT *, ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY ts) AS rn
        FROM `${var.project}.${google_bigquery_dataset.analytics.dataset_id}.${google_bigquery_table.events_raw.table_id}`
      ) WHERE rn = 1
    SQL
  }
}

# Pub/Sub writes each `analytics.events` message (one JSON row) into events_raw by column name.
resource "google_bigquery_table_iam_member" "pubsub_writes_events" {
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  table_id   = google_bigquery_table.events_raw.table_id
  role       = "roles/bigquery.dataEditor"
  member     = local.pubsub_agent
}

resource "google_pubsub_subscription" "analytics_to_bigquery" {
  name  = "analytics.events.bigquery"
  topic = google_pubsub_topic.topic["analytics.events"].id

  bigquery_config {
    table            = "${var.project}.${google_bigquery_dataset.analytics.dataset_id}.${google_bigquery_table.events_raw.table_id}"
    use_table_schema = true
    write_metadata   = false
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter["analytics.events.dead-letter"].id
    max_delivery_attempts = 5
  }

  depends_on = [google_bigquery_table_iam_member.pubsub_writes_events]
}

# The analytics function reads the view (funnels, paths): it runs query jobs and reads the dataset.
resource "google_bigquery_dataset_iam_member" "analytics_reads" {
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = google_service_account.function["analytics"].member
}

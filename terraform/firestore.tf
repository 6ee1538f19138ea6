# Firestore (native mode), its composite indexes and TTL policies, and the security rules.
# The functions reach Firestore through IAM (datastore.user), which rules do not apply to;
# the rules govern browser clients (realtime listeners), deny by default.

resource "google_firestore_database" "main" {
  # "(default)": the database Firebase security rules and the client SDKs address.
  name                              = "(default)"
  location_id                       = local.firestore_location
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "PESSIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  dynamic "cmek_config" {
    for_each = local.kms_key == null ? [] : [local.kms_key]
    content {
      kms_key_name = cmek_config.value
    }
  }

  depends_on = [google_project_service.api]
}

locals {
  # firestore/indexes.yaml: one entry per composite index the code's queries need.
  firestore_indexes = {
    for ix in yamldecode(file("${path.module}/firestore/indexes.yaml")).indexes :
    "${ix.collection}:${join(",", [for f in ix.fields : "${f.field}:${f.order}"])}" => ix
  }
  firestore_ttl = yamldecode(file("${path.module}/firestore/indexes.yaml")).ttl
}

resource "google_firestore_index" "index" {
  for_each = local.firestore_indexes

  database    = google_firestore_database.main.name
  collection  = each.value.collection
  query_scope = try(each.value.scope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.field
      order      = fields.value.order
    }
  }
}

# TTL policies: Firestore deletes a document some time after its timestamp field passes.
resource "google_firestore_field" "ttl" {
  for_each = { for t in local.firestore_ttl : "${t.collection}.${t.field}" => t }

  database   = google_firestore_database.main.name
  collection = each.value.collection
  field      = each.value.field

  ttl_config {}

  # A TTL field needs no single-field index (it would only cost writes).
  index_config {}
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project

  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/firestore/firestore.rules")
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_project_service.api, google_firestore_database.main]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project
  name         = "cloud.firestore" # the release the (default) database serves
  ruleset_name = "projects/${var.project}/rulesets/${google_firebaserules_ruleset.firestore.name}"
}

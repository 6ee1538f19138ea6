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
  # infra/firestore.indexes.json (the Firebase CLI's format), kept beside the rules and checked
  # against every query the code makes by tests/unit/test_firestore_indexes.py.
  firestore_index_file = jsondecode(file("${path.module}/../infra/firestore.indexes.json"))
  firestore_indexes = {
    for ix in local.firestore_index_file.indexes :
    "${ix.collectionGroup}:${join(",", [for f in ix.fields : "${f.fieldPath}:${try(f.order, f.arrayConfig, "VECTOR")}"])}" => ix
  }
  firestore_field_overrides = {
    for fo in try(local.firestore_index_file.fieldOverrides, []) : "${fo.collectionGroup}.${fo.fieldPath}" => fo
  }
}

resource "google_firestore_index" "index" {
  for_each = local.firestore_indexes

  database    = google_firestore_database.main.name
  collection  = each.value.collectionGroup
  query_scope = try(each.value.queryScope, "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = try(fields.value.order, null)
      array_config = try(fields.value.arrayConfig, null)

      # Nexus's embeddings: find_nearest needs a vector index per field (flat: exact KNN by Firestore)
      dynamic "vector_config" {
        for_each = can(fields.value.vectorConfig) ? [fields.value.vectorConfig] : []
        content {
          dimension = vector_config.value.dimension
          flat {}
        }
      }
    }
  }
}

# Field overrides: TTL policies (Firestore deletes a document some time after its timestamp
# passes) and fields exempt from single-field indexing (free-form maps, long text).
resource "google_firestore_field" "override" {
  for_each = local.firestore_field_overrides

  database   = google_firestore_database.main.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  dynamic "ttl_config" {
    for_each = try(each.value.ttl, false) ? [1] : []
    content {}
  }

  # An empty index list: no single-field index (a TTL field or an unqueried blob only costs writes).
  index_config {}
}

resource "google_firebaserules_ruleset" "firestore" {
  project = var.project

  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/../infra/firestore.rules")
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

# Buckets: uniform access, public access prevention, versioning, lifecycle, access logs.
# Names are global: <project>-<purpose> (one project per environment).

# Access logs of the other buckets.
resource "google_storage_bucket" "access_logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log sink; logging it into itself would log every log write.
  name                        = "${var.project}-access-logs"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = var.log_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = local.kms_key == null ? [] : [local.kms_key]
    content {
      default_kms_key_name = encryption.value
    }
  }
}

# The functions' source zips (infra/packaging/build_zips.py). Object names carry the zip's
# MD5, so a changed zip is a new object and redeploys its function; an unchanged one does not.
resource "google_storage_bucket" "source" {
  name                        = "${var.project}-function-source"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Zips are read only at build time; Terraform uploads a missing one again on the next apply.
  lifecycle_rule {
    condition {
      age = 180
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  logging {
    log_bucket        = google_storage_bucket.access_logs.name
    log_object_prefix = "function-source/"
  }

  dynamic "encryption" {
    for_each = local.kms_key == null ? [] : [local.kms_key]
    content {
      default_kms_key_name = encryption.value
    }
  }
}

# One bucket per role: var.bucket_roles plus every storage:<role> trigger of the manifest.
# Functions find them through STUDIO_BUCKET_<ROLE>. Objects are private; clients upload and
# download through V4 signed URLs the functions issue.
resource "google_storage_bucket" "role" {
  for_each = local.bucket_roles

  name                        = "${var.project}-${each.value}"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Overwritten and deleted objects stay recoverable for 30 days, then go.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }

  # Uploads that never completed (resumable sessions) are abandoned after a week.
  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # Signed-URL uploads come from the browser: the public base URL's origin and the exact
  # origins of var.cors_origins (a bucket's CORS knows no port or subdomain patterns).
  cors {
    origin          = concat(["https://${var.domain}"], [for o in var.cors_origins : o if !strcontains(o, "*")])
    method          = ["GET", "PUT", "HEAD"]
    response_header = ["Content-Type", "Content-MD5", "x-goog-content-sha256"]
    max_age_seconds = 3600
  }

  logging {
    log_bucket        = google_storage_bucket.access_logs.name
    log_object_prefix = "${each.value}/"
  }

  dynamic "encryption" {
    for_each = local.kms_key == null ? [] : [local.kms_key]
    content {
      default_kms_key_name = encryption.value
    }
  }
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions

  bucket = google_storage_bucket.source.name
  name   = "${each.key}/${filemd5(local.zip_paths[each.key])}.zip"
  source = local.zip_paths[each.key]
}


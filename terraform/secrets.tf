# Secret Manager secrets: the containers only. Values (versions) are added by ops
# (`gcloud secrets versions add`) or by the app, never by Terraform, so no secret value is
# ever in the state or in this repository.
resource "google_secret_manager_secret" "secret" {
  for_each = var.secrets

  secret_id = each.key

  replication {
    auto {
      dynamic "customer_managed_encryption" {
        for_each = local.kms_key == null ? [] : [local.kms_key]
        content {
          kms_key_name = customer_managed_encryption.value
        }
      }
    }
  }

  depends_on = [google_project_service.api]
}

# Terraform and provider versions, and the remote state. The state bucket is given at init:
#   terraform init -backend-config="bucket=<state bucket>" -backend-config="prefix=studio/<env>"
# (cloudbuild.yaml does this from _TF_STATE_BUCKET and _ENV; docs/deploy.md explains it).
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    # The schema lint (tests/infra) checks every resource against this provider's schema,
    # generated from cdktn-provider-google 21.1.0, which wraps hashicorp/google 8.7.0.
    google = {
      source  = "hashicorp/google"
      version = "~> 8.7"
    }
  }

  backend "gcs" {}
}

provider "google" {
  project = var.project
  region  = var.region

  default_labels = {
    app         = "studio"
    environment = var.environment
    managed-by  = "terraform"
  }
}

# Inputs. Only project, environment and domain have no default; everything the functions
# need is read from functions/manifest.yaml (see locals.tf), so a new function is no edit here.

variable "project" {
  description = "Google Cloud project id. One project per environment: topic names are the code's own (dataset-events, domain.<name>), so two environments cannot share a project."
  type        = string
}

variable "region" {
  description = "Region of the functions, buckets, serverless NEGs and Artifact Registry."
  type        = string
  default     = "europe-west1"
}

variable "environment" {
  description = "Deployment environment: dev, staging or prod (labels, sizing defaults, the state prefix)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "domain" {
  description = "The public host name of the single base URL (a Google-managed certificate is issued for it once its DNS A record points at the load balancer address)."
  type        = string
}

variable "cors_origins" {
  description = "Browser origins allowed to call the API cross-origin (STUDIO_CORS_ORIGINS of every function and of the realtime gateway; decision 0018): exact origins such as https://app.example.com, ':*' for any port, '*.' for any subdomain, or '*' for any origin. Empty: none (a frontend served from var.domain itself needs no entry). Exact origins also reach the buckets' CORS, for signed-URL uploads."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for o in var.cors_origins : can(regex("^(\\*|https?://(\\*\\.)?([a-z0-9-]+(\\.[a-z0-9-]+)*|\\[[0-9a-f:.]+\\])(:(\\*|[0-9]{1,5}))?)$", o))])
    error_message = "cors_origins: each entry is scheme://host[:port] (lower case, no path), with optional '*.' subdomains or ':*' port, or '*'."
  }
}

variable "firestore_location" {
  description = "Firestore location (a region or a multi-region such as eur3 / nam5). Empty: the region. Firestore-triggered functions receive events in this location."
  type        = string
  default     = ""
}

variable "zip_dir" {
  description = "Where infra/packaging/build_zips.py wrote one <function>.zip per manifest function (relative to this directory, or absolute)."
  type        = string
  default     = "../dist/functions"
}

variable "bucket_roles" {
  description = "Bucket roles the platform uses besides those named by storage:<role> triggers in the manifest. Each role is one bucket, passed to every function as STUDIO_BUCKET_<ROLE>."
  type        = list(string)
  default     = ["uploads", "media"]
}

variable "bucket_access" {
  description = "Optional override: bucket role -> manifest function names given roles/storage.objectAdmin on that bucket. Roles not listed here go to every HTTP function and to the storage-triggered functions of that role."
  type        = map(list(string))
  default     = {}
}

variable "secrets" {
  description = "Secret Manager secrets (ids) created empty (versions are added by ops or by the app), each readable by the listed functions and by every function whose manifest extras include one of `extras`."
  type = map(object({
    functions = optional(list(string), [])
    extras    = optional(list(string), [])
  }))
  default = {
    # The key for an OpenAI-compatible LLM endpoint, when one is configured instead of Vertex AI.
    "llm-api-key" = { extras = ["llm"] }
  }
}

variable "dead_letter_max_attempts" {
  description = "Delivery attempts before an event goes to its dead-letter topic (Pub/Sub allows 5-100)."
  type        = number
  default     = 10
}

variable "kms_key_name" {
  description = "Optional CMEK key (projects/.../cryptoKeys/...) for buckets, topics, secrets, Firestore, Artifact Registry and functions. Empty: Google-managed keys. The key's IAM must let each service agent use it."
  type        = string
  default     = ""
}

variable "enable_cloud_armor" {
  description = "Attach a Cloud Armor policy (per-IP rate limit, Log4j and preconfigured WAF rules) to every backend."
  type        = bool
  default     = true
}

variable "rate_limit_per_ip_per_minute" {
  description = "Cloud Armor throttle per client IP across the whole API (decision 0004: the global quota belongs at the load balancer)."
  type        = number
  default     = 3000
}

variable "default_http_function" {
  description = "The function that answers paths no manifest route claims (it returns problem+json 404). Empty: the first HTTP function in the manifest."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  description = "Age after which access logs (bucket access logs) are deleted."
  type        = number
  default     = 90
}

variable "realtime_image" {
  description = "Container image of the realtime gateway (built from infra/realtime/Dockerfile by Cloud Build)."
  type        = string
  default     = ""
}

variable "realtime_min_instances" {
  description = "Warm gateway instances (streams survive a deploy by resuming; see docs/realtime.md)."
  type        = number
  default     = 1
}

variable "realtime_max_instances" {
  description = "Most gateway instances. Each holds at most 1,000 streams (Cloud Run's concurrency cap): 1,000,000 clients need about 1,250 at 80 % (docs/scale.md); the default suits a small studio."
  type        = number
  default     = 20
}

variable "realtime_broker" {
  description = "Decision 0075: a Memorystore for Redis broker wakes the gateways by per-thread channels and holds presence (the design for a large fleet, docs/scale.md). false: Firestore listeners per thread per instance and presence over Pub/Sub, simpler and cheaper below ~50 instances."
  type        = bool
  default     = false
}

variable "broker_tier" {
  description = "Memorystore tier of the broker: STANDARD_HA (a replica and automatic failover) or BASIC (one node)."
  type        = string
  default     = "STANDARD_HA"
  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.broker_tier)
    error_message = "broker_tier is BASIC or STANDARD_HA."
  }
}

variable "broker_memory_size_gb" {
  description = "Memorystore capacity of the broker. It holds only presence sets (a few hundred bytes per user in a thread); pub/sub holds nothing. The capacity tier also sets the network bandwidth."
  type        = number
  default     = 5
}

variable "broker_subnet_cidr" {
  description = "The subnetwork Cloud Run's Direct VPC egress takes addresses from: about two per instance (a /20 covers the 1,250 gateway instances of the target)."
  type        = string
  default     = "10.80.0.0/20"
}

variable "audit_worker_image" {
  description = "Container image of the audit worker (Chromium + axe-core; built from infra/audit_worker/Dockerfile)."
  type        = string
  default     = ""
}

variable "analytics_dataset" {
  description = "BigQuery dataset of the analytics events (STUDIO_ANALYTICS_DATASET of every function)."
  type        = string
  default     = "studio_analytics"
}

variable "analytics_location" {
  description = "BigQuery location of the analytics dataset (EU keeps EU visitors' events in the EU)."
  type        = string
  default     = "EU"
}

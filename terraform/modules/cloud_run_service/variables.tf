variable "name" {
  description = "The Cloud Run service's name."
  type        = string
}

variable "location" {
  description = "Its region."
  type        = string
}

variable "ingress" {
  description = "Who may reach it: INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER (behind the load balancer) or INGRESS_TRAFFIC_INTERNAL_ONLY (Pub/Sub push)."
  type        = string
}

variable "service_account" {
  description = "The identity its instances run as."
  type        = string
}

variable "image" {
  description = "The container image."
  type        = string
}

variable "timeout" {
  description = "Longest request (a stream is one request)."
  type        = string
}

variable "concurrency" {
  description = "Requests per instance (Cloud Run's cap is 1,000)."
  type        = number
}

variable "session_affinity" {
  description = "Send a client back to the instance it used before."
  type        = bool
  default     = false
}

variable "min_instances" {
  description = "Warm instances."
  type        = number
  default     = 0
}

variable "max_instances" {
  description = "Most instances."
  type        = number
}

variable "cpu" {
  description = "vCPUs per instance (Cloud Run's own default: 1)."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory per instance."
  type        = string
}

variable "env" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Environment variables read from Secret Manager: name -> secret id (its latest version)."
  type        = map(string)
  default     = {}
}

variable "vpc" {
  description = "Direct VPC egress into this network and subnetwork (null: none)."
  type = object({
    network    = string
    subnetwork = string
  })
  default = null
}

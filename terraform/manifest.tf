# Everything the stack derives from functions/manifest.yaml, the one list of functions, from
# infra/pubsub_topics.json (the domain registry's topics) and from the variables: names, triggers,
# routes, grants. Pure (no resource is referenced), so tests/infra evaluates these locals with
# `terraform console` against the real manifest.
# A new function is one more manifest entry (and its main.py), a new domain one registry row:
# no edit in this directory.

locals {
  manifest = yamldecode(file("${path.module}/../functions/manifest.yaml"))

  # name -> the manifest entry with its defaults (the same as infra/localrun/manifest.py's).
  # Entries with `platform: cloud_run` are Cloud Run services with their own file (audit_worker.tf).
  functions = {
    for f in local.manifest.functions : f.name => {
      name          = f.name
      id            = replace(f.name, "_", "-") # Cloud Run service names allow no "_"
      entrypoint    = f.entrypoint
      kind          = split(":", f.trigger)[0]
      target        = try(split(":", f.trigger)[1], "") # topic, bucket role or collection
      routes        = try(f.routes, [])
      extras        = try(f.extras, ["core"])
      memory        = try(f.memory, "256Mi")
      timeout       = try(f.timeout, 60)
      min_instances = try(f.min_instances, 0)
      max_instances = try(f.max_instances, 10)
      concurrency   = try(f.concurrency, 1)
      iam_roles     = try(f.iam_roles, [])
      buckets       = try(f.buckets, [])
    } if try(f.platform, "function") == "function"
  }

  # One row per trigger kind the manifest allows: the CloudEvent Eventarc delivers for it.
  # A kind missing here fails the plan (see the precondition in functions.tf).
  event_types = {
    pubsub    = "google.cloud.pubsub.topic.v1.messagePublished"
    storage   = "google.cloud.storage.object.v1.finalized"
    firestore = "google.cloud.firestore.document.v1.created"
  }

  # The functions that publish the realtime broker's hints: those with the `broker` extra (decision 0075).
  broker_extra_functions = sort([for k, f in local.functions : k if contains(f.extras, "broker")])

  http_functions  = { for k, f in local.functions : k => f if f.kind == "http" }
  event_functions = { for k, f in local.functions : k => f if f.kind != "http" }

  default_http_function = (var.default_http_function != "" ? var.default_http_function
  : [for f in local.manifest.functions : f.name if f.trigger == "http"][0])

  # Service account ids: 6-30 characters, [a-z][-a-z0-9]*[a-z0-9].
  service_account_ids = { for k, f in local.functions : k => trimsuffix(substr("fn-${f.id}", 0, 30), "-") }

  # Project roles a manifest entry asks for beyond Firestore (iam_roles): one grant per function and role.
  role_grants = merge([
    for k, f in local.functions : { for role in f.iam_roles : "${k}/${role}" => { function = k, role = role } }
  ]...)

  firestore_location = var.firestore_location != "" ? var.firestore_location : var.region

  # -- Pub/Sub -----------------------------------------------------------------------
  # The topics the code publishes to come from the domain registry (shared/studio/domains.py), written
  # to infra/pubsub_topics.json by `python -m infra.pubsub_topics`; a test holds the file to the registry.
  trigger_topics  = [for f in local.functions : f.target if f.kind == "pubsub"]
  registry_topics = jsondecode(file("${path.module}/../infra/pubsub_topics.json")).topics
  topics          = toset(distinct(concat(local.trigger_topics, local.registry_topics)))

  # Each event function's failed deliveries land in a dead-letter topic: <topic>.dead-letter
  # for Pub/Sub triggers, <kind>.<bucket role|collection>.dead-letter for the others.
  dead_letter_of = {
    for k, f in local.event_functions : k => (
      f.kind == "pubsub" ? "${f.target}.dead-letter" : "${f.kind}.${f.target}.dead-letter"
    )
  }
  dead_letter_topics = toset(distinct(concat(
    [for t in local.topics : "${t}.dead-letter"], values(local.dead_letter_of)
  )))

  # Functions that publish: HTTP functions (DatasetEvents go straight to their topic) and
  # Firestore-triggered ones (the outbox relay). Pub/Sub and storage consumers publish nothing.
  publishers = [for k, f in local.functions : k if contains(["http", "firestore"], f.kind)]
  publisher_grants = {
    for pair in setproduct(local.publishers, tolist(local.topics)) : "${pair[0]}/${pair[1]}" => {
      function = pair[0]
      topic    = pair[1]
    }
  }

  # -- Buckets -----------------------------------------------------------------------
  bucket_roles = toset(distinct(concat(var.bucket_roles, [for f in local.functions : f.target if f.kind == "storage"])))
  bucket_readers = {
    for role in local.bucket_roles : role => lookup(var.bucket_access, role, concat(
      keys(local.http_functions),
      [for k, f in local.functions : k if f.kind == "storage" && f.target == role],
      [for k, f in local.functions : k if contains(f.buckets, role)], # event functions that name it
    ))
  }
  bucket_grants = merge([
    for role, names in local.bucket_readers : { for name in names : "${role}/${name}" => { role = role, function = name } }
  ]...)
  # Functions that sign V4 URLs for a bucket (signBlob on their own service account).
  url_signers = toset(distinct([for g in values(local.bucket_grants) : g.function]))

  # -- Secrets -----------------------------------------------------------------------
  secret_grants = merge([
    for id, s in var.secrets : {
      for name in distinct(concat(s.functions, [
        for k, f in local.functions : k if length(setintersection(f.extras, s.extras)) > 0
      ])) : "${id}/${name}" => { secret = id, function = name }
    }
  ]...)

  # -- Load balancer -----------------------------------------------------------------
  # "/auth" answers "/auth" and everything under it; the LB needs both spellings.
  route_paths = {
    for k, f in local.http_functions : k => flatten([for r in f.routes : [r, "${trimsuffix(r, "/")}/*"]])
  }

  kms_key = var.kms_key_name != "" ? var.kms_key_name : null

  zip_root  = startswith(var.zip_dir, "/") ? var.zip_dir : "${path.module}/${var.zip_dir}"
  zip_paths = { for k in keys(local.functions) : k => "${local.zip_root}/${k}.zip" }
}

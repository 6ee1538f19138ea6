#!/usr/bin/env bash
# Sets the dead-letter policy on the push subscription Eventarc created for each event
# function's trigger: the provider cannot (see pubsub.tf). Idempotent; Cloud Build runs it
# after every apply, so a trigger that was recreated gets its policy back.
#
# Usage: attach-dead-letters.sh EVENT_TRIGGERS_JSON PROJECT_ID
#   EVENT_TRIGGERS_JSON: `terraform output -json event_triggers` saved to a file.
set -euo pipefail
triggers_json="$1"
project="$2"
number=$(gcloud projects describe "$project" --format='value(projectNumber)')
pubsub_agent="serviceAccount:service-${number}@gcp-sa-pubsub.iam.gserviceaccount.com"

python3 -c '
import json, sys
for name, t in sorted(json.load(open(sys.argv[1])).items()):
    print(name, t["trigger"], t["dead_letter_topic"], t["max_delivery_attempts"])
' "$triggers_json" | while read -r function trigger dead_letter attempts; do
  subscription=$(gcloud eventarc triggers describe "$trigger" --project "$project" \
    --format='value(transport.pubsub.subscription)')
  if [ -z "$subscription" ]; then
    echo "no subscription yet for $function ($trigger)" >&2
    exit 1
  fi
  echo "$function: $subscription -> $dead_letter after $attempts attempts"
  gcloud pubsub subscriptions update "$subscription" --project "$project" \
    --dead-letter-topic="$dead_letter" --max-delivery-attempts="$attempts" --quiet
  # Forwarding to the dead-letter topic acks the original as the Pub/Sub service agent.
  gcloud pubsub subscriptions add-iam-policy-binding "$subscription" --project "$project" \
    --member="$pubsub_agent" --role=roles/pubsub.subscriber --quiet >/dev/null
done

"""Nexus ingest worker: cuts queued documents into atoms and cards, and rebuilds an index for a new model."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def nexus_ingest(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    from studio.nexus.services import nexus_services  # cold start: load on first event

    event = decode_pubsub(cloud_event).json()
    services = nexus_services(bootstrap())
    data = event.get("data") or {}
    if event.get("type") == "nexus.ingest_requested":
        services.ingest.ingest(event["tenant_id"], event["env"], data["doc_id"], data["run_id"])
    elif event.get("type") == "nexus.reembed_requested":
        services.reembed.run(event["tenant_id"], event["env"], data["run_id"])
    # any other type on the topic: nothing for this worker

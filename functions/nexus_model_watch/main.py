"""Nexus model watch: follows the runtime configuration's embeddings choice (``runtime_config.changed`` on
``domain.runtime_config``), starting the re-embed the ``nexus_ingest`` worker runs. Redelivery-safe: an
event whose rev was already followed does nothing (studio.nexus.runtime_model)."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def nexus_model_watch(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    event = decode_pubsub(cloud_event).json()
    if isinstance(event, dict) and event.get("type") != "runtime_config.changed":
        return  # runtime_config.used and any other type on the topic: nothing for Nexus
    from studio.nexus.runtime_model import MalformedRuntimeConfigEvent
    from studio.nexus.services import nexus_services  # cold start: load on the first change

    if not isinstance(event, dict):  # raised, not skipped: the delivery is counted, retried, dead-lettered
        raise MalformedRuntimeConfigEvent("the message is not a JSON object")
    nexus_services(bootstrap()).follower.on_event(event)

"""Outbox relay: publishes domain events written to the outbox in the same commit as
their state change. Triggered on Google Cloud by every outbox document Firestore creates;
the local runtime's delivery loop runs the same relay itself."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.outbox import relay_outbox

FIRESTORE_CREATED = "google.cloud.firestore.document.v1.created"


@functions_framework.cloud_event
def outbox_relay(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    if cloud_event["type"] != FIRESTORE_CREATED:
        return  # not ours: acknowledge, nothing to do
    deps = bootstrap()
    relay_outbox(deps.store, deps.bus)  # drains everything pending, not only this document

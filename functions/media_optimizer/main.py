"""Media optimiser: makes each registered asset's variants, proxy, poster or normalised audio."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub

_HANDLED = ("media.asset_registered", "media.asset_deleted")


@functions_framework.cloud_event
def media_optimizer(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    event = decode_pubsub(cloud_event).json()
    if event.get("type") not in _HANDLED:
        return  # another media event on the topic: nothing to make
    from studio.media.services import media_services  # cold start: load on first event

    services = media_services(bootstrap())
    tenant_id, env = event["tenant_id"], event["env"]
    if event["type"] == "media.asset_registered":
        services.optimiser.handle(tenant_id, env, event["data"]["asset_id"])
    services.assets.purge_due(tenant_id, env)  # deleted assets whose grace period is over

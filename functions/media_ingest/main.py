"""Media ingest: an object finalized in the uploads bucket becomes a registered (or failed) asset."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import STORAGE_FINALIZED, decode_storage


@functions_framework.cloud_event
def media_ingest(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    if cloud_event["type"] != STORAGE_FINALIZED:
        return  # another storage event: nothing to register
    from studio.media.services import media_services  # cold start: load on first event

    obj = decode_storage(cloud_event)
    media_services(bootstrap()).ingest.on_finalized(obj.bucket, obj.name, obj.generation)

"""Render worker: takes each requested render job (topic ``render.jobs``) and fans it out, one
``render.chunks`` message per chunk and one for the audio mix, which the chunk workers of any instance
render (functions/render_chunk_worker; decisions 0068, 0087)."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def render_worker(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    from studio.video.services import video_services  # cold start: the render code loads on the first job

    event = decode_pubsub(cloud_event).json()
    if event.get("type") != "video.render_requested":
        return  # not a job: nothing to run
    video_services(bootstrap()).jobs.start(event["tenant_id"], event["env"], event["data"]["job_id"])

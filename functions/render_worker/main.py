"""Render worker: runs each requested render job (topic ``render.jobs``): chunks in parallel ffmpeg
processes, concat without re-encoding, the audio mix, and the output as a media artifact (decision 0068)."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def render_worker(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    from studio.video.services import video_services  # cold start: the render code loads on the first job

    event = decode_pubsub(cloud_event).json()
    if event.get("type") != "video.render_requested":
        return  # not a job: nothing to run
    video_services(bootstrap()).jobs.run(event["tenant_id"], event["env"], event["data"]["job_id"])

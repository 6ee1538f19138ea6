"""Render chunk worker: one ``render.chunks`` message renders one part of a job (a chunk, or the audio
mix) with ffmpeg to the blob store; the worker that completes the last part concatenates, muxes and
registers the artifact. Instances share a job's chunks; a failed part is handed back to the bus, which
retries it (decision 0087)."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def render_chunk_worker(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    from studio.video.services import video_services  # cold start: the render code loads on the first chunk

    event = decode_pubsub(cloud_event).json()
    if event.get("type") != "video.render_chunk_queued":
        return  # not a part: nothing to run
    data = event["data"]
    video_services(bootstrap()).parts.run(event["tenant_id"], event["env"], data["job_id"], data["part"])

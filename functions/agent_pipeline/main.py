"""Agent pipeline: answers each user chat message with a streamed agent reply."""
import functions_framework

from studio.bootstrap import bootstrap
from studio.kernel.cloudevents import decode_pubsub


@functions_framework.cloud_event
def agent_pipeline(cloud_event):  # noqa: ANN001 - cloudevents CloudEvent, typed by the framework
    from studio.agents.services import agent_pipeline as pipeline  # cold start: load on first event

    event = decode_pubsub(cloud_event).json()
    if event.get("type") != "chat.message_posted":
        return  # another chat event on the topic: nothing to answer
    data = event["data"]
    pipeline(bootstrap()).handle(event["tenant_id"], event["env"], data["thread_id"], int(data["seq"]))

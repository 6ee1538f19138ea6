"""The analytics_writer function as Google Cloud runs it: a Pub/Sub messagePublished CloudEvent with one
row; rows from any domain (an experiment's exposure) are stored once; malformed messages raise, so the
bus retries and dead-letters them instead of acking them away."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.analytics.writer import MalformedAnalyticsEvent
from studio.ports.analytics import encode_message
from tests.support.platform import RunningPlatform


def _writer():  # noqa: ANN202
    spec = next(s for s in manifest_mod.load().functions if s.name == "analytics_writer")
    assert spec.trigger == "pubsub:analytics.events"
    return loader.entrypoint(spec)


def _published(data: bytes, topic: str = "analytics.events") -> CloudEvent:
    return CloudEvent({"type": "google.cloud.pubsub.topic.v1.messagePublished",
                       "source": f"//pubsub.googleapis.com/projects/p/topics/{topic}", "id": uuid.uuid4().hex},
                      {"message": {"data": base64.b64encode(data).decode(), "messageId": uuid.uuid4().hex,
                                   "attributes": {}}, "subscription": "projects/p/subscriptions/s"})


def _row(**kw: Any) -> dict[str, Any]:
    return {"tenant_id": "t_writer", "env": "dev", "event_id": "exp:" + uuid.uuid4().hex, "type": "exposure",
            "ts": datetime.now(UTC), "anonymous_id": "v1", "name": "checkout-test", "props": {"variation": 1}, **kw}


def test_a_row_from_another_domain_is_stored_once(platform: RunningPlatform) -> None:
    row = _row()
    for _ in range(2):  # redelivered
        _writer()(_published(encode_message(row)))
    stored = platform.deps.analytics.query("SELECT type, name, props FROM events WHERE event_id = @id",
                                           {"id": row["event_id"]})
    assert stored == [{"type": "exposure", "name": "checkout-test", "props": '{"variation":1}'}]


@pytest.mark.parametrize("data", [
    b"not json", b"[]", json.dumps({"tenant_id": "t"}).encode(),
    json.dumps({**json.loads(encode_message(_row())), "colour": "red"}).encode(),
    json.dumps({**json.loads(encode_message(_row())), "ts": "yesterday"}).encode(),
])
def test_malformed_messages_raise(platform: RunningPlatform, data: bytes) -> None:
    with pytest.raises(MalformedAnalyticsEvent):
        _writer()(_published(data))


def test_a_message_of_another_topic_raises(platform: RunningPlatform) -> None:
    with pytest.raises(MalformedAnalyticsEvent):
        _writer()(_published(encode_message(_row()), topic="domain.tenant"))

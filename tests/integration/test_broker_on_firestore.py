"""The broker feed on Firestore (decision 0075), as deployed: the runtime's store on Google's Firestore
emulator, feeds woken by a real redis-server instead of Firestore listeners, a reply streamed over SSE
and an exact resume."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import new_tenant, new_user
from tests.support.firestore_emulator import FirestoreEmulator, emulator_session
from tests.support.realtime_clients import SseReader
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - the fixture
from tests.support.runtime_process import RuntimeProcess

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


@pytest.fixture(scope="module")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


def test_a_reply_streams_and_resumes_through_the_broker_on_firestore(
        tmp_path: Path, firestore_emulator: FirestoreEmulator, redis_server: RedisServer) -> None:  # noqa: F811
    runtime = RuntimeProcess(tmp_path / "data", STUDIO_STORE="gcp", GOOGLE_CLOUD_PROJECT="demo-broker",
                             FIRESTORE_EMULATOR_HOST=firestore_emulator.host, STUDIO_SSE_HEARTBEAT_S="0.5",
                             STUDIO_ECHO_TOKEN_DELAY_S="0.01", STUDIO_REALTIME_BROKER=redis_server.url,
                             STUDIO_BROKER_SAFETY_POLL_S="60").start(timeout=60)
    try:
        with httpx.Client(base_url=runtime.base_url, timeout=30) as c:
            user = new_user(c)
            tenant = new_tenant(c, user)
            h = user.in_tenant(tenant)
            thread = c.post("/chat/threads", json={"title": "fs"}, headers=h).json()["id"]
            reader = SseReader(c, f"/sse/chat/{thread}?since=0", h)
            c.post(f"/chat/threads/{thread}/messages", json={"text": "a short tale please"}, headers=h)
            reader.wait_for(lambda evs: any(e.event == "message.completed" for e in evs), timeout=30)
            reader.close()
            deltas = [e for e in reader.events if e.event == "message.delta"]
            final = next(e for e in reader.events if e.event == "message.completed").data["data"]
            assert deltas and "".join(d.data["data"]["text"] for d in deltas) == final["text"]
            health = c.get("/healthz/realtime").json()
            assert health["feed_source"] == "broker" and health["broker_feed_reads"]["chunks"] > 0
            last = reader.last_id
            c.post(f"/chat/threads/{thread}/messages", json={"text": "and another"}, headers=h)
            resumed = SseReader(c, f"/sse/chat/{thread}", {**h, "Last-Event-ID": last})
            resumed.wait_for(lambda evs: any(e.event == "message.completed" for e in evs), timeout=30)
            resumed.close()
            created = [e.data["data"] for e in resumed.events if e.event == "message.created"]
            assert created[0]["text"] == "and another" and created[0]["seq"] == final["seq"] + 1
    finally:
        runtime.stop()

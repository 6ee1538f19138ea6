"""A chat reply end to end through the runtime as its own process, as the realtime tests on a deployed
store setup check it (Firestore listeners, the broker feed): the reply streams over SSE whole, and a
stream resumed from the last event id seen starts exactly after it."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.api import new_tenant, new_user
from tests.support.realtime_clients import SseReader
from tests.support.runtime_process import RuntimeProcess


def assert_a_reply_streams_and_resumes(data_dir: Path, *, after_reply: Callable[[httpx.Client], None] | None = None,
                                       **settings: str) -> None:
    """Runs the runtime with ``settings`` (its environment; a short heartbeat and an echo responder that
    streams in small steps are set here), checks one reply and one resume, and stops it.
    ``after_reply`` looks at the runtime once the first reply is complete (before the resume)."""
    runtime = RuntimeProcess(data_dir, STUDIO_SSE_HEARTBEAT_S="0.5", STUDIO_ECHO_TOKEN_DELAY_S="0.01",
                             **settings).start(timeout=60)
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
            if after_reply is not None:
                after_reply(c)
            last = reader.last_id
            c.post(f"/chat/threads/{thread}/messages", json={"text": "and another"}, headers=h)
            resumed = SseReader(c, f"/sse/chat/{thread}", {**h, "Last-Event-ID": last})
            resumed.wait_for(lambda evs: any(e.event == "message.completed" for e in evs), timeout=30)
            resumed.close()
            created = [e.data["data"] for e in resumed.events if e.event == "message.created"]
            assert created[0]["text"] == "and another" and created[0]["seq"] == final["seq"] + 1
    finally:
        runtime.stop()

"""An agent reply is a state change like any other: its start and its end each emit a domain
event on ``domain.chat`` (its deltas are chunk documents the realtime feed streams, no event each)."""
from __future__ import annotations

import httpx

from tests.support.api import User
from tests.support.bus_tap import EventTap
from tests.support.platform import RunningPlatform


def test_a_reply_emits_started_and_finished_once(client: httpx.Client, owner: User, tenant: str,
                                                 platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    thread = client.post("/chat/threads", json={}, headers=h).json()
    tap = EventTap(platform, "domain.chat")
    client.post(f"/chat/threads/{thread['id']}/messages", json={"text": "hello"}, headers=h)
    platform.drain()  # the pipeline answers
    mine = [(e["type"], e["data"]) for e in tap.events(tenant)]
    reply = client.get(f"/chat/threads/{thread['id']}/messages", headers=h).json()["messages"][-1]
    assert reply["role"] == "agent" and reply["status"] == "complete"
    assert [t for t, _ in mine] == ["chat.reply_started", "chat.reply_finished"]
    started, finished = (d for _, d in mine)
    assert (started["seq"], started["reply_to"], started["thread_id"]) == (reply["seq"], 1, thread["id"])
    assert (finished["seq"], finished["status"]) == (reply["seq"], "complete")


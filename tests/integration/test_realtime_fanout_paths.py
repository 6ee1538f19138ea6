"""The fan-out's two paths over real sockets: events written straight from the fan-out while a
connection waits, and handed to the connection's task when its socket is full. A slow client
gets everything in order once it reads, and holds nobody else back; a client that vanishes
ends its own stream only; silence is filled with pings."""
from __future__ import annotations

import socket
import time

import httpx

from tests.support.api import User
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SlowSseSocket, SseReader, ws_connect, ws_frames, ws_until

BIG = "x" * 30_000  # near the 32,000-character limit: a few of these fill a small socket


def _thread(client: httpx.Client, user: User, tenant: str) -> str:
    return str(client.post("/chat/threads", json={"title": "fan-out"}, headers=user.in_tenant(tenant)).json()["id"])


def _deliveries(client: httpx.Client) -> dict[str, int]:
    return dict(client.get("/healthz/realtime").json()["deliveries"])


def _open_feeds(client: httpx.Client) -> int:
    return int(client.get("/healthz/realtime").json()["open_feeds"])


def test_a_slow_client_gets_every_event_in_order_and_holds_nobody_back(
        client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    headers = owner.in_tenant(tenant)
    slow = SlowSseSocket(platform.base_url, f"/sse/chat/{thread_id}", headers)
    fast = SseReader(client, f"/sse/chat/{thread_id}", headers)
    before = _deliveries(client)
    posted = 0
    while _deliveries(client)["backpressure"] == before["backpressure"]:  # until the slow socket is full
        assert posted < 400, "the slow client's socket never filled"
        r = client.post(f"/chat/threads/{thread_id}/messages", json={"text": f"{posted} {BIG}"}, headers=headers)
        assert r.status_code == 201
        posted += 1
    for _ in range(5):  # these queue behind the blocked write, for the slow stream's task to send
        client.post(f"/chat/threads/{thread_id}/messages", json={"text": f"{posted} {BIG}"}, headers=headers)
        posted += 1
    fast.wait_for(lambda evs: len(evs) >= posted, timeout=30)  # the fast one is not held back
    fast.close()
    events = slow.read_until(lambda s: len(s.events) >= posted)
    slow.close()
    assert [e.id for e in events] == [str(seq) for seq in range(1, posted + 1)]
    assert [int(e.data["data"]["text"].split(" ", 1)[0]) for e in events] == list(range(posted))
    after = _deliveries(client)
    assert after["by_task"] >= before["by_task"] + 5  # the slow stream's task sent what queued up
    assert after["failed"] == before["failed"]


def test_a_vanished_client_ends_its_own_stream_only(client: httpx.Client, owner: User, tenant: str,
                                                    platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    headers = owner.in_tenant(tenant)
    feeds_before = _open_feeds(client)
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", headers) as stays, \
            ws_connect(platform.base_url, f"/ws/chat/{thread_id}", headers) as gone:
        assert ws_frames(stays, 1)[0]["type"] == "hello" and ws_frames(gone, 1)[0]["type"] == "hello"
        gone.socket.shutdown(socket.SHUT_RDWR)  # no close frame: the peer just disappears
        for i in range(5):
            client.post(f"/chat/threads/{thread_id}/messages", json={"text": f"after {i}"}, headers=headers)
        frames = ws_until(stays, lambda fs: sum(f["type"] == "message.created" for f in fs) == 5)
        assert [f["data"]["text"] for f in frames if f["type"] == "message.created"] == [f"after {i}" for i in range(5)]
    deadline = time.monotonic() + 10
    while _open_feeds(client) != feeds_before:  # both streams ended, the thread's feed closed
        assert time.monotonic() < deadline, "the feed stayed open"
        time.sleep(0.05)


def test_silence_is_filled_with_pings(client: httpx.Client, owner: User, tenant: str,
                                      platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    stream = SlowSseSocket(platform.base_url, f"/sse/chat/{thread_id}", owner.in_tenant(tenant), rcvbuf=1 << 16)
    started = time.monotonic()
    stream.read_until(lambda s: s.comments.count("ping") >= 2, timeout=10)  # heartbeat 0.5 s here
    stream.close()
    assert time.monotonic() - started >= 0.9  # two heartbeats of silence, not sooner

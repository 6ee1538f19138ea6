"""Exact recovery over SSE and WebSocket: disconnect, post N, resume -> exactly those N, in order."""
from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SseReader, ws_connect, ws_frames, ws_until


def _thread(client: httpx.Client, user: User, tenant: str) -> dict:
    return dict(client.post("/chat/threads", json={"title": "rt"}, headers=user.in_tenant(tenant)).json())


def _post(client: httpx.Client, user: User, tenant: str, thread_id: str, text: str) -> dict:
    r = client.post(f"/chat/threads/{thread_id}/messages", json={"text": text}, headers=user.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_sse_resume_delivers_exactly_the_missed_messages(client: httpx.Client, owner: User, tenant: str) -> None:
    thread = _thread(client, owner, tenant)
    first = SseReader(client, f"/sse/chat/{thread['id']}?since=0", owner.in_tenant(tenant))
    _post(client, owner, tenant, thread["id"], "before")
    first.wait_for(lambda evs: len(evs) == 1)
    assert first.events[0].event == "message.created" and first.events[0].id == "1"
    first.close()

    texts = [f"missed {i}" for i in range(5)]
    for text in texts:
        _post(client, owner, tenant, thread["id"], text)
    again = SseReader(client, f"/sse/chat/{thread['id']}", {**owner.in_tenant(tenant), "Last-Event-ID": first.last_id})
    again.wait_for(lambda evs: len(evs) >= 5)
    _post(client, owner, tenant, thread["id"], "live")
    again.wait_for(lambda evs: len(evs) >= 6)
    again.close()
    assert [e.data["data"]["text"] for e in again.events] == [*texts, "live"]
    assert [e.id for e in again.events] == ["2", "3", "4", "5", "6", "7"]


def test_ws_resume_delivers_exactly_the_missed_messages(client: httpx.Client, owner: User, tenant: str,
                                                        platform: RunningPlatform) -> None:
    thread = _thread(client, owner, tenant)
    with ws_connect(platform.base_url, f"/ws/chat/{thread['id']}?seq=0", owner.in_tenant(tenant)) as ws:
        hello = ws_frames(ws, 1)[0]
        assert hello["type"] == "hello" and hello["epoch"] == 1
        _post(client, owner, tenant, thread["id"], "one")
        frame = ws_until(ws, lambda fs: fs[-1]["type"] == "message.created")[-1]
        assert frame["seq"] == 1 and frame["epoch"] == 1 and frame["thread_id"] == thread["id"]
        cursor = frame["cursor"]
    for i in range(4):
        _post(client, owner, tenant, thread["id"], f"gap {i}")
    with ws_connect(platform.base_url, f"/ws/chat/{thread['id']}?cursor={cursor}&epoch=1",
                    owner.in_tenant(tenant)) as ws:
        frames = ws_until(ws, lambda fs: sum(f["type"] == "message.created" for f in fs) == 4)
        created = [f for f in frames if f["type"] == "message.created"]
        assert [f["data"]["text"] for f in created] == [f"gap {i}" for i in range(4)]
        assert [f["seq"] for f in created] == [2, 3, 4, 5]


def test_epoch_change_tells_the_client_to_reload(client: httpx.Client, owner: User, tenant: str,
                                                 platform: RunningPlatform) -> None:
    thread = _thread(client, owner, tenant)
    with ws_connect(platform.base_url, f"/ws/chat/{thread['id']}?epoch=7", owner.in_tenant(tenant)) as ws:
        frames = ws_until(ws, lambda fs: fs[-1]["type"] == "thread.epoch_changed")
        assert frames[-1]["data"] == {"epoch": 1, "reload": True}
    reader = SseReader(client, f"/sse/chat/{thread['id']}", owner.in_tenant(tenant))
    assert client.delete(f"/chat/threads/{thread['id']}",
                         headers={**owner.in_tenant(tenant), "If-Match": '"1"'}).status_code == 204
    reader.wait_for(lambda evs: any(e.event == "thread.epoch_changed" for e in evs))
    reader.close()
    assert reader.events[-1].data["reload"] is True


def test_foreign_tenant_is_refused_before_any_data(client: httpx.Client, owner: User, tenant: str,
                                                   platform: RunningPlatform) -> None:
    thread = _thread(client, owner, tenant)
    stranger = new_user(client, "stranger")
    own = new_tenant(client, stranger, "Elsewhere")
    sse = client.get(f"/sse/chat/{thread['id']}", headers=stranger.in_tenant(tenant))
    assert sse.status_code == 403 and sse.headers["content-type"] == "application/problem+json"
    wrong_place = client.get(f"/sse/chat/{thread['id']}", headers=stranger.in_tenant(own))
    assert wrong_place.status_code == 404  # the thread does not exist in the caller's own tenant
    no_token = client.get(f"/sse/chat/{thread['id']}", headers={"X-Tenant-Id": tenant, "X-Env": "dev"})
    assert no_token.status_code == 401
    with pytest.raises(InvalidStatus) as refused:  # refused at the handshake: not one frame
        ws_connect(platform.base_url, f"/ws/chat/{thread['id']}", stranger.in_tenant(tenant))
    assert refused.value.response.status_code == 403


def test_ticket_works_once(client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    thread = _thread(client, owner, tenant)
    ticket = client.post("/realtime/tickets", json={"thread_id": thread["id"]}, headers=owner.in_tenant(tenant)).json()
    assert ticket["expires_in"] == 30
    with ws_connect(platform.base_url, f"/ws/chat/{thread['id']}?ticket={ticket['ticket']}") as ws:
        assert ws_frames(ws, 1)[0]["type"] == "hello"
    reuse = client.get(f"/sse/chat/{thread['id']}?ticket={ticket['ticket']}")
    assert reuse.status_code == 401 and reuse.json()["code"] == "UNAUTHENTICATED"
    other = client.post("/realtime/tickets", json={"thread_id": thread["id"]}, headers=owner.in_tenant(tenant)).json()
    another_thread = _thread(client, owner, tenant)
    wrong = client.get(f"/sse/chat/{another_thread['id']}?ticket={other['ticket']}")
    assert wrong.status_code == 403

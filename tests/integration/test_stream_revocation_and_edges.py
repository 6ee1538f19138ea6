"""Long-lived streams answer to the same rules as requests, and edge inputs stay 4xx:
a removed member loses an open socket, a bad resume frame is an error frame, credentials
are never stored for replay, a forged page token is a 400, and meta tickets work."""
from __future__ import annotations

import base64
import json
import uuid

import httpx

from tests.support.api import PASSWORD, User, add_member, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SseReader, ws_connect, ws_frames, ws_until


def _thread(client: httpx.Client, user: User, tenant: str) -> str:
    return str(client.post("/chat/threads", json={}, headers=user.in_tenant(tenant)).json()["id"])


def test_removed_member_cannot_send_on_an_open_socket(client: httpx.Client, owner: User, tenant: str,
                                                      platform: RunningPlatform) -> None:
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    thread_id = _thread(client, owner, tenant)
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", member.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        assert client.delete(f"/tenants/{tenant}/members/{member.user_id}",
                             headers={**owner.in_tenant(tenant), "If-Match": "*"}).status_code == 204
        ws.send(json.dumps({"type": "send", "text": "after removal"}))
        reply = ws_until(ws, lambda fs: fs[-1]["type"] in ("error", "ack"))[-1]
        assert reply["type"] == "error" and reply["data"]["code"] == "NOT_A_MEMBER"
    texts = [m["text"] for m in client.get(f"/chat/threads/{thread_id}/messages",
                                           headers=owner.in_tenant(tenant)).json()["messages"]]
    assert "after removal" not in texts


def test_logged_out_sse_stream_is_revoked(client: httpx.Client, owner: User, tenant: str) -> None:
    thread_id = _thread(client, owner, tenant)
    login = client.post("/auth/login", json={"email": owner.email, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {login['access_token']}", "X-Tenant-Id": tenant, "X-Env": "dev"}
    reader = SseReader(client, f"/sse/chat/{thread_id}", headers)
    assert client.post("/auth/logout", headers=headers).status_code == 204
    reader.wait_for(lambda evs: any(e.event == "stream.revoked" for e in evs), timeout=10)
    reader.close()
    assert reader.events[-1].data["code"] == "TOKEN_INVALID"


def test_malformed_resume_frame_is_an_error_not_a_crash(client: httpx.Client, owner: User, tenant: str,
                                                        platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", owner.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        for bad in ({"type": "resume", "cursor": "garbage"}, {"type": "resume", "cursor": 5}):
            ws.send(json.dumps(bad))
            assert ws_until(ws, lambda fs: fs[-1]["type"] == "error")[-1]["data"]["code"] == "BAD_REQUEST"
        ws.send(json.dumps({"type": "ping"}))
        assert ws_until(ws, lambda fs: fs[-1]["type"] == "pong")  # still alive


def test_login_and_refresh_are_never_replayed_from_storage(client: httpx.Client, owner: User) -> None:
    key = uuid.uuid4().hex
    body = {"email": owner.email, "password": PASSWORD}
    first = client.post("/auth/login", json=body, headers={"Idempotency-Key": key})
    second = client.post("/auth/login", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200
    assert "idempotent-replayed" not in second.headers
    assert first.json()["refresh_token"] != second.json()["refresh_token"]  # two sessions, nothing stored


def test_forged_page_token_is_a_400(client: httpx.Client, owner: User, tenant: str) -> None:
    forged = base64.urlsafe_b64encode(json.dumps([{"a": 1}, "x"]).encode()).decode().rstrip("=")
    r = client.get("/chat/threads", params={"page_token": forged}, headers=owner.in_tenant(tenant))
    assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST"


def test_meta_ticket_opens_the_meta_channel(client: httpx.Client, owner: User, tenant: str) -> None:
    ticket = client.post("/realtime/tickets", json={"thread_id": "meta"}, headers=owner.in_tenant(tenant))
    assert ticket.status_code == 201
    reader = SseReader(client, f"/sse/meta?ticket={ticket.json()['ticket']}", {})
    assert reader.status == 200
    reader.close()


def test_a_viewer_may_leave(client: httpx.Client, owner: User, tenant: str) -> None:
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    assert client.delete(f"/tenants/{tenant}/members/{viewer.user_id}",
                         headers={**viewer.in_tenant(tenant), "If-Match": "*"}).status_code == 204

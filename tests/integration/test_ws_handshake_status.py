"""A refused WebSocket handshake answers with the refusal's own HTTP status and a problem+json
body (uvicorn's ``websocket.http.response`` extension), as the same request over HTTP would."""
from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from studio.identity.local_tokens import LocalTokenIssuer
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import ws_connect


def _refusal(platform: RunningPlatform, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any], Any]:
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(platform.base_url, path, headers)
    response = refused.value.response
    assert response.headers["content-type"] == "application/problem+json"
    body = json.loads(response.body)
    assert body["request_id"] and response.headers["x-request-id"] == body["request_id"]
    return response.status_code, body, response.headers


def test_each_refusal_has_its_status_and_code(client: httpx.Client, owner: User, tenant: str,
                                              platform: RunningPlatform) -> None:
    thread_id = client.post("/chat/threads", json={}, headers=owner.in_tenant(tenant)).json()["id"]
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    stranger = new_user(client, "stranger")
    new_tenant(client, stranger, "Elsewhere")
    expired = LocalTokenIssuer(platform.deps.keyring, issuer=platform.base_url, ttl_s=-120).issue(
        owner.user_id, owner.email, None)
    used = client.post("/realtime/tickets", json={"thread_id": thread_id}, headers=owner.in_tenant(tenant)).json()
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}?ticket={used['ticket']}"):
        pass  # spent
    tenant_headers = {"X-Tenant-Id": tenant, "X-Env": "dev"}
    cases = [
        (f"/ws/chat/{thread_id}", tenant_headers, 401, "UNAUTHENTICATED"),
        (f"/ws/chat/{thread_id}", {**tenant_headers, "Authorization": "Bearer not-a-token"}, 401, "TOKEN_INVALID"),
        (f"/ws/chat/{thread_id}", {**tenant_headers, "Authorization": f"Bearer {expired}"}, 401, "TOKEN_INVALID"),
        (f"/ws/chat/{thread_id}?ticket={used['ticket']}", {}, 401, "UNAUTHENTICATED"),
        (f"/ws/chat/{thread_id}?ticket=tk_forged", {}, 401, "UNAUTHENTICATED"),
        ("/ws/meta", tenant_headers, 401, "UNAUTHENTICATED"),
        (f"/ws/chat/{thread_id}", stranger.in_tenant(tenant), 403, "NOT_A_MEMBER"),
        ("/ws/meta", stranger.in_tenant(tenant), 403, "NOT_A_MEMBER"),
        ("/ws/chat/th_0000000000000000", owner.in_tenant(tenant), 404, "NOT_FOUND"),
        (f"/ws/chat/{thread_id}", {**owner.auth, "X-Tenant-Id": "nope", "X-Env": "dev"}, 400, "TENANT_REQUIRED"),
        (f"/ws/chat/{thread_id}?cursor=garbage", owner.in_tenant(tenant), 400, "BAD_REQUEST"),
    ]
    for path, headers, status, code in cases:
        got, body, _ = _refusal(platform, path, headers)
        assert (got, body["code"]) == (status, code), (path, headers, body)
        assert body["status"] == status and body["instance"] == path.split("?")[0]
    # A ticket for another thread is forbidden; a viewer may listen (a role failure would be a 403 too).
    other = client.post("/chat/threads", json={}, headers=owner.in_tenant(tenant)).json()["id"]
    ticket = client.post("/realtime/tickets", json={"thread_id": other}, headers=owner.in_tenant(tenant)).json()
    got, body, _ = _refusal(platform, f"/ws/chat/{thread_id}?ticket={ticket['ticket']}", {})
    assert (got, body["code"]) == (403, "FORBIDDEN")
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", viewer.in_tenant(tenant)) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"

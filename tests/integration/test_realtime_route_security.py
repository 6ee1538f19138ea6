"""The realtime gateway's routes live outside the kernel's HttpApp, so they are enumerated here:
every one (but its health route) refuses a caller without credentials and a foreign tenant."""
from __future__ import annotations

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute
from websockets.exceptions import InvalidStatus

from studio import domains
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import ws_connect

PUBLIC = {"/healthz/realtime"}


def _routes(platform: RunningPlatform) -> list[tuple[str, str]]:
    found = []
    for route in platform.platform.app.routes:
        if isinstance(route, WebSocketRoute):
            found.append(("WS", route.path))
        elif isinstance(route, Route) and route.path.startswith(("/sse", "/ws", "/healthz/realtime")):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return found


def _url(path: str, thread_id: str) -> str:
    return path.replace("{thread_id}", thread_id)


def test_every_gateway_route_refuses_strangers(client: httpx.Client, owner: User, tenant: str,
                                               platform: RunningPlatform) -> None:
    thread_id = client.post("/chat/threads", json={}, headers=owner.in_tenant(tenant)).json()["id"]
    stranger = new_user(client, "stranger")
    new_tenant(client, stranger, "Stranger Co")
    routes = _routes(platform)
    # The gateway serves exactly the streams the registry declares (and its health route).
    declared = {path for row in domains.DOMAINS for path in row.streams}
    assert {p for _, p in routes} - PUBLIC == declared
    for method, path in routes:
        url = _url(path, thread_id)
        if path in PUBLIC:
            continue
        if method == "WS":
            for headers, status in (({"X-Tenant-Id": tenant, "X-Env": "dev"}, 401), (stranger.in_tenant(tenant), 403)):
                with pytest.raises(InvalidStatus) as refused:
                    ws_connect(platform.base_url, url, headers)
                assert refused.value.response.status_code == status, (path, headers)
            continue
        anonymous = client.request(method, url, json={"text": "x"}, headers={"X-Tenant-Id": tenant, "X-Env": "dev"})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        foreign = client.request(method, url, json={"text": "x"}, headers=stranger.in_tenant(tenant))
        assert foreign.status_code in (403, 404), (method, path, foreign.text)
        assert foreign.headers["content-type"] == "application/problem+json"

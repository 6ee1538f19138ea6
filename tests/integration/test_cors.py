"""CORS over every route (generated, not hand-listed): every route of every function in
functions/manifest.yaml and every route of the realtime gateway answers a preflight from an
allowed origin, refuses one from any other, and stamps its real answers accordingly.

The session's runtime runs with the defaults of `make serve`: any loopback port is allowed.
"""
from __future__ import annotations

import re

import httpx
import pytest

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.contracts.realtime_openapi import openapi_paths
from studio.kernel import cors
from tests.support.api import PASSWORD, User
from tests.support.platform import RunningPlatform
from tests.support.runtime_process import RuntimeProcess

ALLOWED = "http://localhost:5173"  # a frontend dev server
ALLOWED_TOO = "http://127.0.0.1:4200"
REFUSED = ("https://evil.example", "http://localhost.evil.example:5173", "null")

FUNCTION_ROUTES = [(r.method, r.path) for spec in manifest_mod.load().http()
                   for r in loader.http_app(spec).table.routes]
GATEWAY_ROUTES = [(method.upper(), path) for path, ops in openapi_paths().items() for method in ops]
ROUTES = FUNCTION_ROUTES + GATEWAY_ROUTES
IDS = [f"{m} {p}" for m, p in ROUTES]


def _url(path: str) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: "t_nobody000" if m.group(1) == "tenant_id" else "x_1", path)


def _preflight(client: httpx.Client, method: str, path: str, origin: str) -> httpx.Response:
    return client.options(_url(path), headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key, if-match, x-tenant-id, x-env"})


def _header_list(value: str) -> set[str]:
    return {v.strip().lower() for v in value.split(",") if v.strip()}


def test_the_generated_list_holds_every_gateway_route(platform: RunningPlatform) -> None:
    """The gateway's routes (realtime/app.py) are the ones its OpenAPI part describes."""
    served = {(m, r.path) for r in platform.platform.app.routes if r.path.startswith(("/sse", "/ws", "/healthz/realtime"))
              for m in (getattr(r, "methods", None) or {"GET"}) if m != "HEAD"}
    assert served == set(GATEWAY_ROUTES)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=IDS)
def test_preflight_from_an_allowed_origin(client: httpx.Client, method: str, path: str) -> None:
    for origin in (ALLOWED, ALLOWED_TOO):
        r = _preflight(client, method, path, origin)
        assert r.status_code == 204, r.text
        assert r.headers["Access-Control-Allow-Origin"] == origin
        assert method.lower() in _header_list(r.headers["Access-Control-Allow-Methods"])
        assert {h.lower() for h in cors.ALLOW_HEADERS} <= _header_list(r.headers["Access-Control-Allow-Headers"])
        assert "origin" in _header_list(r.headers["Vary"])
        assert "Access-Control-Allow-Credentials" not in r.headers  # bearer tokens, never cookies
        assert int(r.headers["Access-Control-Max-Age"]) > 0
        assert r.headers["X-Request-Id"]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=IDS)
def test_preflight_from_another_origin_is_refused(client: httpx.Client, method: str, path: str) -> None:
    for origin in REFUSED:
        r = _preflight(client, method, path, origin)
        assert r.status_code == 403, r.text
        assert not any(k.lower().startswith("access-control-") for k in r.headers), r.headers
        body = r.json()
        assert body["code"] == "CORS_PREFLIGHT_REFUSED" and body["request_id"] == r.headers["X-Request-Id"]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=IDS)
def test_real_answers_carry_cors_only_for_an_allowed_origin(client: httpx.Client, method: str, path: str) -> None:
    """Whatever the answer (401, 404, 200), the page on an allowed origin can read it and its ids."""
    r = client.request(method, _url(path), json={}, headers={"Origin": ALLOWED})
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED, r.headers
    exposed = _header_list(r.headers["Access-Control-Expose-Headers"])
    assert {"etag", "x-request-id", "retry-after", "idempotent-replayed", "location"} <= exposed
    assert "origin" in _header_list(r.headers["Vary"])
    r = client.request(method, _url(path), json={}, headers={"Origin": REFUSED[0]})
    assert "Access-Control-Allow-Origin" not in r.headers and "Access-Control-Expose-Headers" not in r.headers
    assert "origin" in _header_list(r.headers["Vary"])


def test_a_method_outside_the_api_is_refused_even_from_an_allowed_origin(client: httpx.Client) -> None:
    for path in ("/chat/threads", "/sse/meta", "/healthz"):
        r = client.options(path, headers={"Origin": ALLOWED, "Access-Control-Request-Method": "TRACE"})
        assert r.status_code == 403 and r.json()["code"] == "CORS_PREFLIGHT_REFUSED", path


def test_a_plain_options_request_is_not_a_preflight(client: httpx.Client) -> None:
    r = client.options("/chat/threads", headers={"Origin": ALLOWED})  # no Access-Control-Request-Method
    assert r.status_code == 405 and r.json()["code"] == "METHOD_NOT_ALLOWED"
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_an_event_stream_and_its_post_answer_an_allowed_origin(client: httpx.Client, owner: User, tenant: str) -> None:
    thread = client.post("/chat/threads", json={"title": "cors"}, headers=owner.in_tenant(tenant)).json()
    ticket = client.post("/realtime/tickets", json={"thread_id": thread["id"]},
                         headers=owner.in_tenant(tenant)).json()["ticket"]
    with client.stream("GET", f"/sse/chat/{thread['id']}", params={"ticket": ticket, "since": 0},
                       headers={"Origin": ALLOWED}) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert stream.headers["X-Request-Id"]
    r = client.post(f"/sse/chat/{thread['id']}", json={"text": "hello"},
                    headers={**owner.in_tenant(tenant), "Origin": ALLOWED})
    assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_revisioned_writes_expose_their_etag(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.post("/chat/threads", json={"title": "etag"}, headers={**owner.in_tenant(tenant), "Origin": ALLOWED})
    assert r.headers["ETag"] and "etag" in _header_list(r.headers["Access-Control-Expose-Headers"])


def test_an_origin_list_from_configuration_replaces_the_loopback_default(tmp_path) -> None:  # noqa: ANN001
    """STUDIO_CORS_ORIGINS (what Terraform sets) is the whole list: loopback is no longer allowed."""
    runtime = RuntimeProcess(tmp_path, STUDIO_CORS_ORIGINS="https://app.example.com").start()
    try:
        with httpx.Client(base_url=runtime.base_url, timeout=30) as c:
            for path in ("/auth/login", "/sse/meta", "/healthz", "/nowhere"):
                ok = _preflight(c, "POST", path, "https://app.example.com")
                assert ok.status_code == 204 and ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
                assert _preflight(c, "POST", path, ALLOWED).status_code == 403, path
            r = c.post("/auth/signup", json={"email": "cors@example.com", "password": PASSWORD},
                       headers={"Origin": "https://app.example.com"})
            assert r.status_code == 201 and r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    finally:
        runtime.stop()

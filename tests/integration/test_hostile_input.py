"""No input may cause a 500: the shapes found by trying, against the real runtime.

Generated over the OpenAPI of every function: every query and path parameter of every
operation gets each hostile value, and every JSON-body route gets a 100,000-deep body and
non-finite numbers. Each answer is below 500 and, when an error, problem+json with a code.
Then the cases seen in the wild, one by one.
"""
from __future__ import annotations

import base64
import json
import logging
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.openapi import build_openapi
from studio.kernel.routing import Route
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import ws_connect
from tests.support.site_keys import ScopeKeys, keys_of_every_scope, site_key_request

ROUTES = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
OPENAPI = build_openapi(ROUTES)


def _token(values: Any) -> str:
    raw = values if isinstance(values, str) else json.dumps(values)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


HOSTILE: dict[str, str] = {
    "2^63": str(2**63), "2^64+1": str(2**64 + 1), "-2^63-1": str(-(2**63) - 1), "5000 digits": "9" * 5000,
    "superscript two": "²", "arabic three": "٣", "underscores": "1_000", "padded": " 5 ", "float": "5.0",
    "NaN": "NaN", "Infinity": "Infinity", "1e400": "1e400",
    "until overflow": "9999-12-31T23:59:59-23:59", "year one": "0001-01-01T00:00:00Z",
    "year one east": "0001-01-01T00:00:00+01:00", "naive time": "2025-01-01T00:00:00",
    "NUL": "\x00", "NUL inside": "a\x00b", "10 KB": "x" * 10_240, "empty": "",
    "token 2^70": _token(["2025-01-01", 2**70, "x"]), "token NaN": _token("[NaN, 1, \"x\"]"),
    "token deep": _token("[" * 3000 + "]" * 3000), "token garbage": "!!!~~",
}
DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000
HOSTILE_BODIES = {
    "100k-deep array": DEEP_ARRAY, "100k-deep object": DEEP_OBJECT,
    "NaN": '{"text": NaN, "title": NaN, "input": NaN, "output": NaN}',
    "Infinity": '{"text": Infinity, "base_rev": -Infinity}', "1e400": '{"text": "x", "base_rev": 1e400}',
    "huge integer": '{"text": "x", "title": "x", "base_rev": ' + "9" * 5000 + "}",
}


@dataclass
class World:
    user: User
    tenant: str
    thread: str
    site_keys: dict[str, ScopeKeys]

    @property
    def headers(self) -> dict[str, str]:
        return self.user.in_tenant(self.tenant)


@pytest.fixture(scope="module")
def world(platform: RunningPlatform) -> World:
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:
        user = new_user(c, "hostile")
        tenant = new_tenant(c, user, "Hostile")
        thread = c.post("/chat/threads", json={}, headers=user.in_tenant(tenant)).json()["id"]
        site_keys = keys_of_every_scope(c, user, tenant)
    return World(user, tenant, thread, site_keys)


@pytest.fixture()
def c(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.base_url, timeout=60) as client:
        yield client


def assert_problem(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), what
        body = response.json()
        assert body["status"] == response.status_code and body["code"] and body["request_id"], what


def _path(route_path: str, world: World, override: dict[str, str] | None = None) -> str:
    values = {"thread_id": world.thread, "tenant_id": world.tenant, "user_id": world.user.user_id, **(override or {})}
    path = route_path
    for name in [p.split("}")[0] for p in route_path.split("{")[1:]]:
        path = path.replace("{" + name + "}", quote(values.get(name, "x"), safe=""))
    return path


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in OPENAPI["paths"].items() for method, op in item.items()]


QUERY_PARAMS = [(m, p, prm["name"]) for m, p, op in _operations() for prm in op["parameters"] if prm["in"] == "query"]
PATH_PARAMS = [(m, p, prm["name"]) for m, p, op in _operations() for prm in op["parameters"] if prm["in"] == "path"]
BODY_ROUTES = [r for r in ROUTES if r.body is not None]
BODYLESS_WRITES = [r for r in ROUTES if r.body is None and not r.reads_body and r.method not in ("GET", "HEAD")]
UNEXPECTED_BODIES = {"a field": ('{"reason": "x"}', "BODY_NOT_EXPECTED"), "another id": ('{"id": "x"}', "BODY_NOT_EXPECTED"),
                     "a list": ("[]", "BODY_NOT_EXPECTED"), "text": ("cancel it", "BODY_NOT_EXPECTED"),
                     "NaN": ('{"x": NaN}', "INVALID_JSON"), "100k-deep array": (DEEP_ARRAY, "JSON_TOO_DEEP")}


def test_the_generated_cases_cover_the_api() -> None:
    names = {name for _, _, name in QUERY_PARAMS}
    assert {"since", "until", "limit", "page_token"} <= names  # what the seen bugs went through
    assert len(BODY_ROUTES) >= 8
    assert len(BODYLESS_WRITES) >= 20  # the DELETEs, the cancels and revokes, key creation, logout


@pytest.mark.parametrize(("method", "path", "param"), QUERY_PARAMS, ids=lambda v: str(v))
def test_every_query_parameter_survives_hostile_values(c: httpx.Client, world: World, method: str, path: str,
                                                       param: str) -> None:
    url = _path(path, world)
    for name, value in HOSTILE.items():
        response = c.request(method, url, params={param: value}, headers=world.headers)
        assert_problem(response, f"{method} {path}?{param}=<{name}>")


@pytest.mark.parametrize(("method", "path", "param"), PATH_PARAMS, ids=lambda v: str(v))
def test_every_path_parameter_survives_hostile_values(c: httpx.Client, world: World, method: str, path: str,
                                                      param: str) -> None:
    for name, value in HOSTILE.items():
        if param == "tenant_id" and method != "GET" or not value:
            continue  # a mutation of our own tenant, or an empty segment (another route)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = c.request(method, _path(path, world, {param: value}), json=body, headers=world.headers)
        assert_problem(response, f"{method} {path} with {param}=<{name}>")


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_json_body_route_refuses_deep_and_non_finite_json(c: httpx.Client, world: World, route: Route) -> None:
    for name, raw in HOSTILE_BODIES.items():
        if route.site_key is not None:  # the key is checked before the body: send a live one, where its clients do
            request = site_key_request(route, world.site_keys[route.site_key.scope].live,
                                       **{"Content-Type": "application/json"})
            request.pop("json", None)
            response = c.request(**request, content=raw)
        else:
            response = c.request(route.method, _path(route.path, world), content=raw,
                                 headers={**world.headers, "Content-Type": "application/json"})
        assert_problem(response, f"{route.method} {route.path} with a {name} body")
        if not route.system_only:  # a service-only route refuses the caller before reading
            assert response.status_code == 400, f"{route.path} {name}: {response.text[:200]}"
            assert response.json()["code"] in ("INVALID_JSON", "JSON_TOO_DEEP", "VALIDATION_FAILED"), name
            if name.startswith("100k"):
                assert response.json()["code"] == "JSON_TOO_DEEP"
            elif name != "huge integer":
                assert response.json()["code"] == "INVALID_JSON", name


@pytest.mark.parametrize("route", BODYLESS_WRITES, ids=lambda r: f"{r.method} {r.path}")
def test_every_write_without_a_body_refuses_one(c: httpx.Client, world: World, route: Route) -> None:
    """A body the route would ignore is refused before the write, never a silent success; {} is
    nothing (what a client that always sends JSON sends)."""
    for name, (raw, code) in UNEXPECTED_BODIES.items():
        kind = "text/plain" if name == "text" else "application/json"
        response = c.request(route.method, _path(route.path, world), content=raw,
                             headers={**world.headers, "Content-Type": kind})
        assert_problem(response, f"{route.method} {route.path} with {name}")
        if not route.system_only:
            assert (response.status_code, response.json()["code"]) == (400, code), f"{route.path} {name}: {response.text[:200]}"
    if route.path.startswith("/auth/logout"):
        return  # {} would end the session every later case runs with
    response = c.request(route.method, _path(route.path, world), content="{}",
                         headers={**world.headers, "Content-Type": "application/json"})
    assert_problem(response, f"{route.method} {route.path} with {{}}")
    assert response.json().get("code") != "BODY_NOT_EXPECTED" if response.status_code >= 400 else True


# -- the cases seen ------------------------------------------------------------------------


def test_a_dataset_event_with_nan_is_refused_at_the_edge(c: httpx.Client, world: World) -> None:
    for raw in ('{"surface":"chat","agentId":"muse","input":NaN,"output":1}',
                '{"surface":"chat","agentId":"muse","input":{"x":[Infinity]},"output":1}',
                '{"surface":"chat","agentId":"muse","input":1e400,"output":1}'):
        r = c.post("/events/datasets", content=raw, headers={**world.headers, "Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "INVALID_JSON", r.text


def test_the_event_listing_survives_records_stored_before_the_fix(c: httpx.Client, platform: RunningPlatform) -> None:
    """An older build stored NaN (and records that no longer validate): the listing answered 500
    for good. Now it answers, shows what it can, and counts what it left out."""
    with httpx.Client(base_url=platform.base_url, timeout=30) as setup:
        admin = new_user(setup, "poisoned")
        tenant = new_tenant(setup, admin, "Poisoned")
    headers = admin.in_tenant(tenant)
    assert c.post("/events/datasets", json={"surface": "chat", "agentId": "muse", "input": "fine", "output": 1},
                  headers=headers).status_code == 202
    platform.drain()
    collection = f"tenants/{tenant}/envs/dev/dataset_events"
    conn = sqlite3.connect(platform.deps.store.path)
    with conn:
        good = conn.execute("SELECT data FROM docs WHERE parent = ?", (collection,)).fetchone()[0]
        nan = json.loads(good) | {"eventId": "dse_" + "a" * 32, "input": float("nan"), "output": [float("inf")]}
        broken = json.loads(good) | {"eventId": "dse_" + "b" * 32, "surface": None}
        for doc in (nan, broken):
            conn.execute("INSERT INTO docs(path, parent, data, rev, create_time, update_time) VALUES (?,?,?,1,?,?)",
                         (f"{collection}/{doc['eventId']}", collection, json.dumps(doc), doc["createdAt"],
                          doc["createdAt"]))
    conn.close()
    for _ in range(2):
        listed = c.get("/events/datasets", headers=headers)
        assert listed.status_code == 200, listed.text
        page = listed.json()
        events = {e["eventId"]: e for e in page["events"]}
        assert len(events) == 2 and page["unreadable"] == 1
        assert events["dse_" + "a" * 32]["input"] is None and events["dse_" + "a" * 32]["output"] == [None]
    filtered = c.get("/events/datasets", params={"surface": "chat", "since": "0001-01-01T00:00:00Z"}, headers=headers)
    assert filtered.status_code == 200 and len(filtered.json()["events"]) == 2


@pytest.mark.parametrize("value", [str(2**63), str(2**64), "9" * 5000, "²", "٣", "1_0"])
def test_seqs_beyond_the_store_or_not_ascii_are_400(c: httpx.Client, world: World, value: str) -> None:
    r = c.get(f"/chat/threads/{world.thread}/messages", params={"since": value}, headers=world.headers)
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_FAILED", r.text


def test_forged_page_tokens_are_400(c: httpx.Client, world: World) -> None:
    for token in (_token(["2025", 2**70]), _token(["x", "y", 2**63]), HOSTILE["token NaN"], HOSTILE["token deep"]):
        for url in ("/chat/threads", "/events/datasets"):
            r = c.get(url, params={"page_token": token}, headers=world.headers)
            assert r.status_code == 400, (url, r.text)


@pytest.mark.parametrize(("param", "value", "status"), [
    ("until", "9999-12-31T23:59:59-23:59", 400), ("since", "0001-01-01T00:00:00+01:00", 400),
    ("since", "0001-01-01T00:00:00Z", 200), ("until", "9999-12-31T23:59:59Z", 200),
    ("since", "0999-06-01T00:00:00Z", 200)])
def test_extreme_times_on_the_event_listing(c: httpx.Client, world: World, param: str, value: str,
                                            status: int) -> None:
    r = c.get("/events/datasets", params={param: value}, headers=world.headers)
    assert r.status_code == status, r.text


@pytest.mark.parametrize("query", [{"since": str(2**63)}, {"since": "²"}, {"since": "9" * 5000}, {"cursor": "²"},
                                   {"cursor": "9" * 5000}, {"cursor": "1~2.²"}, {"cursor": "1~" + "2.3," * 3000}])
def test_sse_refuses_bad_seqs_and_cursors(c: httpx.Client, world: World, query: dict[str, str]) -> None:
    with c.stream("GET", f"/sse/chat/{world.thread}", params=query, headers=world.headers) as r:
        r.read()
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "BAD_REQUEST"


def test_sse_refuses_a_bad_last_event_id(c: httpx.Client, world: World) -> None:
    with c.stream("GET", f"/sse/chat/{world.thread}", headers={**world.headers, "Last-Event-ID": "²".encode()}) as r:
        r.read()
        assert r.status_code == 400


@pytest.mark.parametrize("query", ["seq=%C2%B2", f"seq={2**63}", "cursor=%C2%B2", "seq=" + "9" * 5000])
def test_websocket_handshake_refuses_bad_seqs(platform: RunningPlatform, world: World, query: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(platform.base_url, f"/ws/chat/{world.thread}?{query}", world.headers)
    assert 400 <= refused.value.response.status_code < 500


def test_blob_urls_with_huge_numbers_are_refused_not_crashed(c: httpx.Client, platform: RunningPlatform) -> None:
    r = c.get("/_blobs/bucket-a/x.txt", params={"expires": "9" * 5000, "method": "GET", "sig": "ab"})
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    url = platform.deps.blobs.signed_url("bucket-a", "x.txt", method="PUT")
    r = c.put(url, content=b"data", headers={"x-goog-if-generation-match": "9" * 5000})
    assert r.status_code == 400 and r.json()["code"] == "BAD_REQUEST", r.text


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("target", ["function", "realtime gateway"])
def test_a_client_that_disconnects_mid_body_is_a_499_not_an_error(platform: RunningPlatform, world: World,
                                                                  target: str) -> None:
    seen = _Records()
    loggers = [logging.getLogger(n) for n in ("studio.http", "studio.realtime", "uvicorn.error")]
    for logger in loggers:
        logger.addHandler(seen)
    path, headers = "/auth/login", {}
    if target == "realtime gateway":
        path, headers = f"/sse/chat/{world.thread}", world.headers
    try:
        host, port = platform.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            sock.sendall((f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}Content-Type: application/json\r\n"
                          "Content-Length: 1000\r\n\r\n{\"text\":").encode())
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while not any("closed the request" in r.getMessage() for r in seen.records) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # an error logged after the abort would show up here
    finally:
        for logger in loggers:
            logger.removeHandler(seen)
    messages = [(r.levelno, r.getMessage()) for r in seen.records]
    assert (logging.INFO, "client closed the request") in messages, messages
    if target == "function":
        assert (logging.INFO, "POST /auth/login 499") in messages, messages
    assert not [m for level, m in messages if level >= logging.ERROR], messages

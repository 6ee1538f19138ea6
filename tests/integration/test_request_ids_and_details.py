"""Every answer names its request, and a problem's detail is in our words.

Each response of every kind the runtime serves (a function's, the runtime's own 404/405,
/healthz, the docs, the blob app, the realtime gateway and its WebSocket handshake) carries
X-Request-Id, and each problem body carries the same id. A malformed token is described in
stable words, never in the JWT parser's ("Invalid header string: 'utf-8' codec ...").
"""
from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.api import User
from tests.support.platform import RunningPlatform

ANSWERS = [  # (method, path, expected status)
    ("GET", "/healthz/chat", 200),  # a function's own route
    ("GET", "/chat/threads", 401),  # a function's problem
    ("GET", "/nowhere", 404),  # no function serves it: the runtime's own 404
    ("PROPFIND", "/chat/threads", 405),  # a method no function takes: the runtime's own 405
    ("GET", "/healthz", 200),
    ("GET", "/openapi.json", 200),
    ("GET", "/asyncapi.json", 200),
    ("GET", "/docs", 200),
    ("GET", "/console/chat", 200),
    ("GET", "/console/experiments", 200),
    ("GET", "/console/media", 200),
    ("GET", "/console/nexus", 200),
    ("GET", "/console/audits", 200),
    ("GET", "/console/render", 200),
    ("GET", "/console/static/console.js", 200),  # the pages' shared script
    ("GET", "/console/static/nothing.js", 404),  # the console files' own problem
    ("GET", "/_blobs/x/y", 400),  # the blob app's problem
    ("PUT", "/_blobs/uploads/a.txt", 403),  # unsigned
    ("GET", "/healthz/realtime", 200),
    ("GET", "/sse/meta", 401),  # the gateway's problem
    ("POST", "/sse/chat/th_x", 401),
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(("method", "path", "status"), ANSWERS, ids=[f"{m} {p}" for m, p, _ in ANSWERS])
def test_every_answer_carries_a_request_id(client: httpx.Client, method: str, path: str, status: int) -> None:
    r = client.request(method, path)
    assert r.status_code == status, r.text
    request_id = r.headers["X-Request-Id"]
    assert re.fullmatch(r"[A-Za-z0-9._:-]{8,128}", request_id)
    if r.headers.get("content-type", "").startswith("application/problem+json"):
        assert r.json()["request_id"] == request_id
    else:
        assert status < 400
    kept = client.request(method, path, headers={"X-Request-Id": "trace-4711-abcdef"})  # joins the caller's trace
    assert kept.headers["X-Request-Id"] == "trace-4711-abcdef"
    if status >= 400:
        assert kept.json()["request_id"] == "trace-4711-abcdef"
    minted = client.request(method, path, headers={"X-Request-Id": "<script>"})  # not an id: replaced
    assert minted.headers["X-Request-Id"] not in ("<script>", "", request_id)


def test_every_answer_of_a_burst_has_its_own_id(client: httpx.Client) -> None:
    ids = {client.get(path).headers["X-Request-Id"] for path in ("/nowhere", "/healthz", "/sse/meta") * 5}
    assert len(ids) == 15


def test_the_websocket_handshake_carries_a_request_id(platform: RunningPlatform, owner: User, tenant: str,
                                                      client: httpx.Client) -> None:
    url = platform.base_url.replace("http://", "ws://") + "/ws/meta"
    with connect(url, additional_headers={**owner.in_tenant(tenant), "X-Request-Id": "ws-trace-12345"}) as ws:
        assert ws.response is not None
        assert ws.response.headers["X-Request-Id"] == "ws-trace-12345"


# -- problem details say what is wrong in our words --------------------------------------------
_HEADER_OK = _b64(b'{"alg":"EdDSA","kid":"k1","typ":"JWT"}')
MALFORMED_TOKENS = {
    "header not utf-8": _b64(b"\xff\xfe\xfd{") + ".e30.c2ln",
    "header not json": _b64(b"not json") + ".e30.c2ln",
    "header a json array": _b64(b"[1,2]") + ".e30.c2ln",
    "header bad base64": "%%%.e30.c2ln",
    "two segments": "abc.def",
    "five segments": "a.b.c.d.e",
    "payload not json": f"{_HEADER_OK}.{_b64(b'nope')}.c2ln",
    "payload not utf-8": f"{_HEADER_OK}.{_b64(bytes([0xC3, 0x28]))}.c2ln",
    "signature bad base64": f"{_HEADER_OK}.e30.%%%",
    "alg none": _b64(b'{"alg":"none"}') + ".e30.",
}
_INTERNALS = re.compile(r"codec|utf-8|Invalid header|Invalid payload|padding|Expecting|decode|json object|"
                        r"segments|Traceback|Error\b|0x[0-9a-f]{2}", re.IGNORECASE)


@pytest.mark.parametrize("token", list(MALFORMED_TOKENS.values()), ids=list(MALFORMED_TOKENS))
def test_a_malformed_token_is_refused_in_stable_words(client: httpx.Client, token: str, tenant: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-Tenant-Id": tenant, "X-Env": "dev"}
    for path in ("/auth/me", "/chat/threads", "/sse/meta"):  # a user route, a tenant route, the gateway
        r = client.get(path, headers=headers)
        assert r.status_code == 401, (path, r.text)
        body = r.json()
        assert body["code"] == "TOKEN_INVALID" and body["request_id"] == r.headers["X-Request-Id"]
        assert body["detail"] and not _INTERNALS.search(body["detail"]), body["detail"]
        assert json.dumps(body).isascii()


def test_an_error_escaping_an_asgi_app_is_a_problem_with_the_id() -> None:
    """The edge of the ASGI apps (kernel/asgi_edge.py) around an app that fails before answering."""
    from studio.kernel import cors
    from studio.kernel.asgi_edge import AsgiEdge
    from tests.support.platform import serve_in_thread
    from tests.support.shared_process import free_port

    async def failing(scope: dict, receive: object, send: object) -> None:
        raise RuntimeError("boom: internal state 0xdeadbeef")

    edge = AsgiEdge(failing, cors_origins=lambda scope: cors.LOOPBACK_ORIGINS)
    port = free_port()
    server, thread = serve_in_thread(edge, port)
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/anything", headers={"Origin": "http://localhost:3000"})
        assert r.status_code == 500 and r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["code"] == "INTERNAL" and "boom" not in r.text
        assert body["request_id"] == r.headers["X-Request-Id"]
        assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"  # the page can read why
    finally:
        server.should_exit = True
        thread.join(timeout=10)

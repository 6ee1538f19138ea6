"""A message sent on a stream (WebSocket ``send`` frame, SSE ``POST``) gets exactly what
``POST /chat/threads/{id}/messages`` gets: the same validation, idempotency with ``client_id``
as the key, rate limit, request id and access log line; bad frames get error frames with the
problem's code and the socket stays open."""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from studio.kernel.logs import CloudLoggingFormatter
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import ws_connect, ws_frames, ws_until
from tests.support.runtime_process import RuntimeProcess


def _thread(client: httpx.Client, user: User, tenant: str) -> str:
    return str(client.post("/chat/threads", json={}, headers=user.in_tenant(tenant)).json()["id"])


def _reply(ws: Any) -> dict[str, Any]:
    """The next ack or error frame (presence and message events in between are skipped)."""
    frames = ws_until(ws, lambda fs: fs[-1]["type"] in ("ack", "error"))
    return frames[-1]


def _messages(client: httpx.Client, user: User, tenant: str, thread_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/chat/threads/{thread_id}/messages", headers=user.in_tenant(tenant)).json()["messages"])


class _Lines(logging.Handler):
    """The access log lines as Cloud Logging receives them (formatted while the request id is set)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[dict[str, Any]] = []
        self._format = CloudLoggingFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self._format.format(record)))


@pytest.fixture()
def access_lines() -> Iterator[_Lines]:
    handler = _Lines()
    logger = logging.getLogger("studio.http")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_replayed_client_id_returns_the_original_ack(client: httpx.Client, owner: User, tenant: str,
                                                     platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", owner.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        ws.send(json.dumps({"type": "send", "text": "once", "client_id": "c-replay"}))
        first = _reply(ws)
        ws.send(json.dumps({"type": "send", "text": "once", "client_id": "c-replay"}))
        again = _reply(ws)
        ws.send(json.dumps({"type": "send", "text": "other text", "client_id": "c-replay"}))
        reused = _reply(ws)
    assert first["type"] == again["type"] == "ack"
    assert again["data"] == first["data"] and again["seq"] == first["seq"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert reused["type"] == "error" and reused["data"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [m["text"] for m in _messages(client, owner, tenant, thread_id)] == ["once"]  # stored once
    # The key is the REST route's, in the same scope: a REST post with it and the same body replays too.
    rest = client.post(f"/chat/threads/{thread_id}/messages", content=b'{"text":"once","client_id":"c-replay"}',
                       headers={**owner.in_tenant(tenant), "Idempotency-Key": "c-replay",
                                "Content-Type": "application/json"})
    assert rest.status_code == 201 and rest.headers["idempotent-replayed"] == "true"
    assert rest.json()["seq"] == first["seq"]


def test_bad_frames_get_error_frames_with_the_problem_code(client: httpx.Client, owner: User, tenant: str,
                                                           platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    deep = '{"type":"send","text":' + "[" * 100_000 + "]" * 100_000 + "}"
    cases = [
        ("{not json", "INVALID_JSON"),
        ('{"type":"send","text":NaN}', "INVALID_JSON"),
        (deep, "JSON_TOO_DEEP"),
        ("[1, 2]", "INVALID_JSON"),
        (json.dumps({"type": "send", "text": ""}), "VALIDATION_FAILED"),
        (json.dumps({"type": "send", "text": "x" * 32_001}), "VALIDATION_FAILED"),
        (json.dumps({"type": "send", "text": "hi", "role": "agent"}), "VALIDATION_FAILED"),  # the model forbids extras
        (json.dumps({"type": "send", "text": "hi", "client_id": "c" * 101}), "VALIDATION_FAILED"),
        (json.dumps({"type": "shout"}), "BAD_REQUEST"),
    ]
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", owner.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        for raw, code in cases:
            ws.send(raw)
            reply = _reply(ws)
            assert reply["type"] == "error", raw[:60]
            assert reply["data"]["code"] == code, (raw[:60], reply["data"])
            assert reply["data"]["status"] == 400 and reply["request_id"] == reply["data"]["request_id"] != ""
        ws.send(b'{"type":"ping"}')  # a binary frame
        assert _reply(ws)["data"]["code"] == "INVALID_JSON"
        ws.send(json.dumps({"type": "ping"}))
        assert ws_until(ws, lambda fs: fs[-1]["type"] == "pong")  # still open
    assert _messages(client, owner, tenant, thread_id) == []
    # The REST route refuses the same bodies with the same codes.
    rest = client.post(f"/chat/threads/{thread_id}/messages", json={"text": "hi", "role": "agent"},
                       headers=owner.in_tenant(tenant))
    assert rest.status_code == 400 and rest.json()["code"] == "VALIDATION_FAILED"


def test_each_send_has_its_request_id_and_the_rest_routes_log_line(
        client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform, access_lines: _Lines) -> None:
    thread_id = _thread(client, owner, tenant)
    rest = client.post(f"/chat/threads/{thread_id}/messages", json={"text": "by rest"},
                       headers=owner.in_tenant(tenant))
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", owner.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        ws.send(json.dumps({"type": "send", "text": "mine", "request_id": "frame-req-0001"}))
        named = _reply(ws)
        ws.send(json.dumps({"type": "send", "text": "minted"}))
        minted = _reply(ws)
    assert named["request_id"] == "frame-req-0001"
    assert minted["request_id"] and minted["request_id"] not in (named["request_id"], rest.headers["x-request-id"])
    path = f"/chat/threads/{thread_id}/messages"
    posts = [line for line in access_lines.lines if line["httpRequest"]["requestUrl"] == path]
    by_id = {line["request_id"]: line for line in posts}
    assert set(by_id) >= {rest.headers["x-request-id"], "frame-req-0001", minted["request_id"]}
    rest_line, ws_line = by_id[rest.headers["x-request-id"]], by_id["frame-req-0001"]
    assert set(ws_line) == set(rest_line) and set(ws_line["httpRequest"]) == set(rest_line["httpRequest"])
    assert ws_line["message"] == rest_line["message"] == f"POST {path} 201"
    assert (ws_line["function"], ws_line["tenant_id"], ws_line["user_id"]) == ("chat", tenant, owner.user_id)


def test_sse_post_is_the_rest_route(client: httpx.Client, owner: User, tenant: str) -> None:
    thread_id = _thread(client, owner, tenant)
    url = f"/sse/chat/{thread_id}"
    headers = {**owner.in_tenant(tenant), "X-Request-Id": "sse-post-req-01"}
    first = client.post(url, json={"text": "via sse", "client_id": "s-1"}, headers=headers)
    again = client.post(url, json={"text": "via sse", "client_id": "s-1"}, headers=owner.in_tenant(tenant))
    assert first.status_code == again.status_code == 201
    assert first.headers["x-request-id"] == "sse-post-req-01"
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    for body, code in ((b'{"text": NaN}', "INVALID_JSON"), (b'{"text":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                                            "JSON_TOO_DEEP"),
                       (b'{"text": "x", "extra": 1}', "VALIDATION_FAILED")):
        bad = client.post(url, content=body, headers={**owner.in_tenant(tenant), "Content-Type": "application/json"})
        assert bad.status_code == 400 and bad.json()["code"] == code, bad.text[:200]
        assert bad.headers["content-type"] == "application/problem+json" and bad.json()["request_id"]
    assert [m["text"] for m in _messages(client, owner, tenant, thread_id)] == ["via sse"]


PER_MINUTE = 60  # a burst of 10, then one a second


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    """The runtime with a tight limiter (the session platform's is out of the way)."""
    runtime = RuntimeProcess(tmp_path_factory.mktemp("limited") / "data",
                             STUDIO_RATE_LIMIT_PER_MINUTE=str(PER_MINUTE)).start()
    yield runtime
    runtime.stop()


def _most_allowed(elapsed_s: float) -> int:
    """What a token bucket lets through in ``elapsed_s``: the burst, the refill, and one spare."""
    return PER_MINUTE // 6 + int(elapsed_s * PER_MINUTE / 60) + 1


def _until_allowed(call: Any) -> httpx.Response:
    for _ in range(50):
        response: httpx.Response = call()
        if response.status_code != 429:
            return response
        time.sleep(0.2)
    raise AssertionError("still rate limited")


def test_a_burst_of_websocket_sends_meets_the_rest_limit(limited: RuntimeProcess) -> None:
    with httpx.Client(base_url=limited.base_url, timeout=30) as c:
        user = new_user(c, "burst")
        tenant = new_tenant(c, user)
        h = user.in_tenant(tenant)
        thread_id = _until_allowed(lambda: c.post("/chat/threads", json={}, headers=h)).json()["id"]
        started = time.monotonic()
        rest = [c.post(f"/chat/threads/{thread_id}/messages", json={"text": f"r{i}"}, headers=h) for i in range(300)]
        rest_allowed = _most_allowed(time.monotonic() - started)
        assert sum(r.status_code == 201 for r in rest) <= rest_allowed  # the REST route's own limit, the baseline
        assert {r.json()["code"] for r in rest if r.status_code != 201} == {"RATE_LIMITED"}
        time.sleep(3)  # a few tokens back
        with ws_connect(limited.base_url, f"/ws/chat/{thread_id}", h) as ws:
            ws_frames(ws, 1)
            started = time.monotonic()
            for i in range(300):
                ws.send(json.dumps({"type": "send", "text": f"w{i}", "client_id": f"w-{i}"}))
            replies = [_reply(ws) for _ in range(300)]
            ws_allowed = _most_allowed(time.monotonic() - started)
        acks = [r for r in replies if r["type"] == "ack"]
        refused = [r for r in replies if r["type"] == "error"]
        assert 0 < len(acks) <= ws_allowed and len(refused) >= 300 - ws_allowed
        assert {r["data"]["code"] for r in refused} == {"RATE_LIMITED"}
        assert refused[0]["data"]["retry_after_s"] >= 1 and refused[0]["data"]["status"] == 429
        page = _until_allowed(lambda: c.get(f"/chat/threads/{thread_id}/messages", params={"limit": 500},
                                            headers=h)).json()["messages"]
        assert sorted(m["text"] for m in page if m["text"].startswith("w")) == sorted(a["data"]["text"] for a in acks)

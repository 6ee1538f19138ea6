"""Streams end with their session, and each user holds a bounded number of them.

The runtime here re-checks streams only every 30 s (heartbeat and ping), so a stream that
ends within a second of logout was ended by the logout itself, not by the periodic re-check.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.api import PASSWORD, User, new_tenant, new_user
from tests.support.realtime_clients import SlowSseSocket, SseReader, ws_connect, ws_frames
from tests.support.runtime_process import RuntimeProcess

CAP = 3
PROMPT_S = 2.0  # the bound the test holds logout to (measured: see the printed figures)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    proc = RuntimeProcess(tmp_path_factory.mktemp("streams") / "data", STUDIO_SSE_HEARTBEAT_S="30",
                          STUDIO_WS_PING_S="30", STUDIO_WS_IDLE_S="120", STUDIO_STREAMS_PER_USER=str(CAP),
                          STUDIO_RATE_LIMIT_PER_MINUTE="1000000").start()
    yield proc
    proc.stop()


@pytest.fixture()
def c(runtime: RuntimeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
        yield client


def _session(c: httpx.Client, user: User, tenant: str) -> dict[str, str]:
    """A fresh login: its own session, as a second tab would have."""
    tokens = c.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {tokens['access_token']}", "X-Tenant-Id": tenant, "X-Env": "dev"}


def _ticket(c: httpx.Client, headers: dict[str, str], stream: str) -> str:
    r = c.post("/realtime/tickets", json={"thread_id": stream}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["ticket"])


def _open_streams(c: httpx.Client) -> int:
    return int(c.get("/healthz/realtime").json()["open_streams"])


def _wait(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def test_logout_ends_streams_opened_with_tickets_at_once(c: httpx.Client, runtime: RuntimeProcess) -> None:
    user = new_user(c, "tab")
    tenant = new_tenant(c, user)
    tab = _session(c, user, tenant)
    thread_id = c.post("/chat/threads", json={}, headers=tab).json()["id"]
    sse = SseReader(c, f"/sse/chat/{thread_id}?ticket={_ticket(c, tab, thread_id)}", {})
    meta = SseReader(c, f"/sse/meta?ticket={_ticket(c, tab, 'meta')}", {})
    with ws_connect(runtime.base_url, f"/ws/chat/{thread_id}?ticket={_ticket(c, tab, thread_id)}") as ws:
        assert sse.status == meta.status == 200 and ws_frames(ws, 1)[0]["type"] == "hello"
        c.post(f"/chat/threads/{thread_id}/messages", json={"text": "still here"}, headers=tab)
        sse.wait_for(lambda evs: any(e.event == "message.created" for e in evs))  # live before the logout
        ended: dict[str, float] = {}

        logout_at = time.monotonic()
        assert c.post("/auth/logout", headers=tab).status_code == 204
        try:
            while True:
                ws.recv(timeout=PROMPT_S + 1)
        except ConnectionClosed as closed:
            ended["ws"] = time.monotonic() - logout_at
            assert closed.rcvd is not None and closed.rcvd.code == 4401 and closed.rcvd.reason == "TOKEN_INVALID"
    sse.wait_for(lambda evs: any(e.event == "stream.revoked" for e in evs), timeout=PROMPT_S + 1)
    ended["sse"] = time.monotonic() - logout_at
    meta.wait_for(lambda evs: any(e.event == "stream.revoked" for e in evs), timeout=PROMPT_S + 1)
    ended["meta"] = time.monotonic() - logout_at
    print(f"\nlogout -> stream ended: {', '.join(f'{k} {v * 1000:.0f} ms' for k, v in ended.items())}")
    assert max(ended.values()) < PROMPT_S, ended  # the re-check interval here is 30 s
    assert sse.events[-1].data["code"] == meta.events[-1].data["code"] == "TOKEN_INVALID"
    sse.close()
    meta.close()
    _wait(lambda: _open_streams(c) == 0)  # each ended stream gave its slot back


def test_a_ticket_cannot_outlive_its_session(c: httpx.Client) -> None:
    user = new_user(c, "late")
    tenant = new_tenant(c, user)
    tab = _session(c, user, tenant)
    thread_id = c.post("/chat/threads", json={}, headers=tab).json()["id"]
    ticket = _ticket(c, tab, thread_id)
    assert c.post("/auth/logout", headers=tab).status_code == 204
    late = c.get(f"/sse/chat/{thread_id}?ticket={ticket}")
    assert late.status_code == 401 and late.json()["code"] == "TOKEN_INVALID"


def test_each_user_holds_at_most_the_cap_of_streams(c: httpx.Client, runtime: RuntimeProcess) -> None:
    user = new_user(c, "greedy")
    tenant = new_tenant(c, user)
    h = user.in_tenant(tenant)
    thread_id = c.post("/chat/threads", json={}, headers=h).json()["id"]
    # On bare sockets, which the test closes at once (a reader thread would block until the next ping).
    held = [SlowSseSocket(runtime.base_url, f"/sse/chat/{thread_id}", h) for _ in range(CAP)]
    assert {s.status for s in held} == {200}
    refused = [c.get(f"/sse/chat/{thread_id}", headers=h) for _ in range(50)]
    assert {r.status_code for r in refused} == {429}
    problem = refused[0].json()
    assert problem["code"] == "TOO_MANY_STREAMS" and refused[0].headers["content-type"] == "application/problem+json"
    assert c.get("/sse/meta", headers=h).status_code == 429  # meta streams count too
    with pytest.raises(InvalidStatus) as ws_refused:
        ws_connect(runtime.base_url, f"/ws/chat/{thread_id}", h)
    assert ws_refused.value.response.status_code == 429
    assert json.loads(ws_refused.value.response.body)["code"] == "TOO_MANY_STREAMS"
    other = new_user(c, "other")  # a cap per user, not per tenant or process
    other_tenant = new_tenant(c, other)
    other_thread = c.post("/chat/threads", json={}, headers=other.in_tenant(other_tenant)).json()["id"]
    theirs = SlowSseSocket(runtime.base_url, f"/sse/chat/{other_thread}", other.in_tenant(other_tenant))
    assert theirs.status == 200
    theirs.close()
    held.pop().close()  # the client is gone: its slot is free again

    deadline = time.monotonic() + 10
    while True:  # the slot comes back once the gateway has seen the close
        try:
            with ws_connect(runtime.base_url, f"/ws/chat/{thread_id}", h) as ws:
                assert ws_frames(ws, 1)[0]["type"] == "hello"
            break
        except InvalidStatus as still:
            assert still.response.status_code == 429 and time.monotonic() < deadline
            time.sleep(0.05)
    for reader in held:
        reader.close()

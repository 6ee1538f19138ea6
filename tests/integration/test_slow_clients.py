"""Slow and oversized clients against the real runtime process (loopback, bounded loops).

Before: ten sockets trickling a POST /auth/login body held all of the runtime's WSGI worker
threads and every REST route hung; a 1 MiB header was accepted; a header sent a byte at a time
kept its connection for ever. Timeouts are shortened here (4 s) so the tests stay quick.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.localrun.manifest import REPO
from tests.support.api import PASSWORD, User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.runtime_process import RuntimeProcess
from tests.support.shared_process import free_port, spawn_until_ready
from tests.support.slow_clients import Trickle, problem_of, raw_exchange, status_of

HEAD_TIMEOUT_S = 4.0
BODY_TIMEOUT_S = 4.0
KEEP_ALIVE_S = 2


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    proc = RuntimeProcess(tmp_path_factory.mktemp("slow-clients"), STUDIO_RATE_LIMIT_PER_MINUTE="1000000",
                          STUDIO_HTTP_HEAD_TIMEOUT_S=str(HEAD_TIMEOUT_S), STUDIO_HTTP_BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
                          STUDIO_HTTP_KEEP_ALIVE_S=str(KEEP_ALIVE_S), STUDIO_SSE_HEARTBEAT_S="0.5").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(runtime: RuntimeProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runtime.base_url, timeout=10) as c:
        yield c


def _slow_login_body() -> tuple[bytes, bytes]:
    body = b'{"email": "nobody@example.com", "password": "' + b"x" * 150 + b'"}'
    head = (b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    return head, body


def _slow_head() -> tuple[bytes, bytes]:
    return b"", b"GET /auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"


def test_slow_clients_do_not_starve_the_rest(runtime: RuntimeProcess, client: httpx.Client) -> None:
    user = new_user(client, "busy")
    tenant = new_tenant(client, user)
    slow = [_slow_login_body()] * 20 + [_slow_head()] * 20
    latencies: list[float] = []
    with Trickle(runtime.port, slow, interval_s=0.5, for_s=HEAD_TIMEOUT_S + 6) as trickle:
        time.sleep(0.5)  # every slow socket is connected and has started
        with httpx.Client(base_url=runtime.base_url, timeout=5) as other:
            while time.monotonic() - trickle.started < HEAD_TIMEOUT_S - 0.5:  # while they all still last
                for path, headers in (("/healthz", {}), ("/auth/me", user.auth),
                                      ("/chat/threads", user.in_tenant(tenant))):
                    began = time.monotonic()
                    assert other.get(path, headers=headers).status_code == 200
                    latencies.append(time.monotonic() - began)
        assert all(c.closed_after_s is None for c in trickle.clients), "the slow clients ended too early to prove it"
        results = trickle.wait()
    assert len(latencies) >= 6 and max(latencies) < 2.0, latencies
    for result in results:  # each was answered 408 (body or head too slow) and closed, near its deadline
        assert result.status == 408, bytes(result.received[:200])
        assert result.problem()["code"] == "REQUEST_TIMEOUT"
        assert result.closed_after_s is not None and result.closed_after_s < HEAD_TIMEOUT_S + 4


def test_a_slow_body_gets_408_after_its_deadline(runtime: RuntimeProcess) -> None:
    with Trickle(runtime.port, [_slow_login_body()], interval_s=0.2, for_s=BODY_TIMEOUT_S + 6) as trickle:
        [result] = trickle.wait()
    assert result.status == 408 and result.problem()["code"] == "REQUEST_TIMEOUT"
    assert result.problem()["instance"] == "/auth/login" and result.problem()["request_id"]
    assert b"connection: close" in bytes(result.received).lower()
    assert result.closed_after_s is not None and BODY_TIMEOUT_S - 0.5 < result.closed_after_s < BODY_TIMEOUT_S + 4
    assert 0 < result.sent < len(_slow_login_body()[1])  # it was still sending when refused


def test_an_oversized_header_is_refused_with_431(runtime: RuntimeProcess) -> None:
    for size in (40 * 1024, 1 << 20):  # one read that ends the head; many reads that never end it in time
        response = raw_exchange(runtime.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                                + b"a" * size + b"\r\n\r\n")
        assert status_of(response) == 431, response[:200]
        assert problem_of(response)["code"] == "HEADERS_TOO_LARGE"


def test_a_large_but_sane_header_is_served(runtime: RuntimeProcess, client: httpx.Client) -> None:
    r = client.get("/healthz", headers={"Cookie": "c=" + "a" * 16 * 1024})
    assert r.status_code == 200


def test_a_declared_oversized_body_is_refused_before_it_is_sent(runtime: RuntimeProcess) -> None:
    for extra in (b"Expect: 100-continue\r\n", b""):  # a client that waits; one whose body is absurd
        length = b"2097152" if extra else b"999999999999"
        began = time.monotonic()
        response = raw_exchange(runtime.port, b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra
                                + b"Content-Type: application/json\r\nContent-Length: " + length + b"\r\n\r\n")
        assert status_of(response) == 413 and problem_of(response)["code"] == "PAYLOAD_TOO_LARGE"
        assert time.monotonic() - began < 2


def test_a_chunked_body_is_bounded_and_still_understood(runtime: RuntimeProcess, client: httpx.Client) -> None:
    chunk = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
    too_big = raw_exchange(runtime.port, b"POST /auth/signup HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                           + chunk * 16 + b"1\r\n \r\n0\r\n\r\n")  # 1 MiB + 1 byte, no Content-Length
    assert status_of(too_big) == 413 and problem_of(too_big)["code"] == "PAYLOAD_TOO_LARGE"
    user = new_user(client, "chunked")
    login = client.post("/auth/login", content=iter([f'{{"email": "{user.email}", '.encode(),
                                                        f'"password": "{PASSWORD}"}}'.encode()]),
                        headers={"Content-Type": "application/json"})  # no Content-Length: chunked
    assert login.status_code == 200, login.text
    assert login.json()["access_token"]


def test_idle_connections_are_closed(runtime: RuntimeProcess) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with Trickle(runtime.port, [(b"", b""), (head, b"")], interval_s=0.1, for_s=HEAD_TIMEOUT_S + 4) as trickle:
        never_spoke, kept_alive = trickle.wait()
    assert never_spoke.received == b"" and never_spoke.closed_after_s is not None
    assert HEAD_TIMEOUT_S - 0.5 < never_spoke.closed_after_s < HEAD_TIMEOUT_S + 3
    assert kept_alive.status == 200 and kept_alive.closed_after_s is not None
    assert KEEP_ALIVE_S - 0.5 < kept_alive.closed_after_s < KEEP_ALIVE_S + 3


def test_a_stream_is_not_cut_by_the_head_or_body_deadlines(runtime: RuntimeProcess, client: httpx.Client) -> None:
    user: User = new_user(client, "streamer")
    tenant = new_tenant(client, user)
    thread = client.post("/chat/threads", json={"title": "long"}, headers=user.in_tenant(tenant))
    assert thread.status_code == 201, thread.text
    with client.stream("GET", f"/sse/chat/{thread.json()['id']}", headers=user.in_tenant(tenant)) as stream:
        began = time.monotonic()
        lines = stream.iter_lines()
        while time.monotonic() - began < max(HEAD_TIMEOUT_S, BODY_TIMEOUT_S) + 1:
            next(lines)  # heartbeats keep coming past every deadline
    assert stream.status_code == 200


def test_the_realtime_container_serves_with_the_same_limits(tmp_path: Path) -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO / "shared"), "STUDIO_DATA_DIR": str(tmp_path),
           "HOST": "127.0.0.1", "PORT": str(port), "STUDIO_HTTP_HEAD_TIMEOUT_S": "2"}
    proc, _, _ = spawn_until_ready("realtime container", [sys.executable, str(REPO / "infra" / "realtime" / "main.py")],
                                   f"http://127.0.0.1:{port}/healthz/realtime", env=env)
    try:
        big = raw_exchange(port, b"GET /healthz/realtime HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n")
        assert status_of(big) == 431 and problem_of(big)["code"] == "HEADERS_TOO_LARGE"
        with Trickle(port, [_slow_head()], interval_s=0.2, for_s=8) as trickle:
            [slow] = trickle.wait()
        assert slow.status == 408 and slow.closed_after_s is not None and slow.closed_after_s < 5
        with Trickle(port, [(b"POST /sse/chat/t1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n", b"")],
                     interval_s=0.1, for_s=5) as trickle:
            [too_big] = trickle.wait()
        assert too_big.status == 413 and too_big.problem()["code"] == "PAYLOAD_TOO_LARGE"
    finally:
        proc.terminate()
        proc.wait(10)


def test_blob_uploads_keep_their_own_larger_cap(platform: RunningPlatform) -> None:
    blobs = platform.deps.blobs
    data = b"\x00\x01" * (3 << 19)  # 3 MiB: over the JSON cap, under the uploads' 64 MiB
    url = blobs.signed_url("uploads", "big.bin", method="PUT", content_type="application/octet-stream")
    r = httpx.put(url, content=data, headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert r.status_code == 200, r.text
    assert blobs.get("uploads", "big.bin")[0] == data

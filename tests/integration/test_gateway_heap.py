"""The gateway's heap policy (decision 0104) on a real runtime process: open streams are frozen
out of full collections, and connect/drop churn does not grow the frozen heap or the resident
memory, because what closed streams leave in reference cycles is reclaimed after churn."""
from __future__ import annotations

import base64
import os
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.api import new_tenant, new_user
from tests.support.runtime_process import RuntimeProcess

STREAMS = 120  # per cycle, half SSE and half WebSocket
CYCLES = 8
FREEZE_AFTER = 40


def _open(port: int, path: str, headers: dict[str, str], websocket: bool) -> socket.socket:
    """A stream held on a bare socket: the request, then the response head (200 or 101)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        lines += ["Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    else:
        lines.append("Accept: text/event-stream")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, f"{path}: closed before the response head"
        head += chunk
    status = int(head.split(b" ", 2)[1])
    assert status == (101 if websocket else 200), head[:300]
    return sock


def _health(base_url: str) -> dict[str, Any]:
    return dict(httpx.get(base_url + "/healthz/realtime", timeout=10).json())


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _settled(base_url: str, policy_steps: int) -> dict[str, Any]:
    """The health once every stream is released and the policy has had ``policy_steps`` checks."""
    deadline = time.monotonic() + 30
    while _health(base_url)["open_streams"]:
        assert time.monotonic() < deadline, "streams were not released"
        time.sleep(0.1)
    time.sleep(policy_steps * 0.2 + 0.2)
    return _health(base_url)


def test_connect_drop_churn_keeps_the_frozen_heap_and_memory_bounded(tmp_path: Path) -> None:
    runtime = RuntimeProcess(tmp_path / "data", STUDIO_GATEWAY_GC_FREEZE_AFTER=str(FREEZE_AFTER),
                             STUDIO_STREAMS_PER_USER="100000", STUDIO_RATE_LIMIT_PER_MINUTE="1000000").start(timeout=60)
    try:
        with httpx.Client(base_url=runtime.base_url, timeout=30) as client:
            owner = new_user(client, "heap")
            tenant = new_tenant(client, owner)
            headers = owner.in_tenant(tenant)
            thread = client.post("/chat/threads", json={"title": "churn"}, headers=headers).json()["id"]
            pid = int(client.get("/healthz").json()["pid"])
        start = _health(runtime.base_url)["gc"]
        assert start["policy"] == "freeze" and start["freezes"] >= 1  # what the process built, frozen at start
        frozen, rss, held = [], [], []
        for _cycle in range(CYCLES):
            socks = [_open(runtime.port, f"/{'ws' if i % 2 else 'sse'}/chat/{thread}", headers, websocket=bool(i % 2))
                     for i in range(STREAMS)]
            time.sleep(1.5)  # the policy checks every second: the new streams get frozen
            held.append(_health(runtime.base_url)["gc"]["frozen_objects"])
            for sock in socks:
                sock.close()
            gc_now = _settled(runtime.base_url, 8)["gc"]
            frozen.append(gc_now["frozen_objects"])
            rss.append(_rss_kib(pid))
        final = _health(runtime.base_url)["gc"]
    finally:
        runtime.stop()
    per_stream = (held[0] - start["frozen_objects"]) / STREAMS
    # Open streams were frozen: each holds a hundred or more tracked objects (measured ~215).
    assert per_stream > 50, (held, start)
    # Churn made the policy reclaim, and after that the frozen heap stops growing: what one cycle of
    # closed streams would leave frozen in cycles (~40 objects each) is more than the bound allows.
    assert final["reclaims"] >= CYCLES // 3, final
    assert max(frozen[2:]) - min(frozen[2:]) < STREAMS * 20, frozen
    # Resident memory levels off (arenas are reused): the last cycles grow it by less than 4 MiB.
    assert rss[-1] - min(rss[2:]) < 4 * 1024, rss

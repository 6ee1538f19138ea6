"""A local gateway fleet (``STUDIO_GATEWAY_PROCESSES``) as the fleet tests drive it: its members'
ports and pids from ``<data>/fleet/``, and the few chat calls they make against one member."""
from __future__ import annotations

import time
from pathlib import Path

import httpx

from infra.localrun import fleet
from tests.support.api import User
from tests.support.runtime_process import RuntimeProcess


class Fleet:
    def __init__(self, runtime: RuntimeProcess, data_dir: Path) -> None:
        self.runtime = runtime
        self.data_dir = data_dir
        self.members: list[dict[str, int]] = []

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.members[index]['port']}"

    def wait_ready(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        proc = self.runtime.proc
        while time.monotonic() < deadline:
            self.members = fleet.members(self.data_dir)
            if len(self.members) == count and all(healthy(self.url(i)) for i in range(count)):
                return
            if proc is not None and proc.poll() is not None:
                break  # the fleet's parent is gone: waiting longer cannot help
            time.sleep(0.1)
        raise AssertionError(f"fleet not ready in {timeout} s: {self.members}\n{self.runtime.tail()}")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def new_thread(c: httpx.Client, user: User, tenant: str) -> str:
    return str(c.post("/chat/threads", json={"title": "fleet"}, headers=user.in_tenant(tenant)).json()["id"])


def post_message(url: str, user: User, tenant: str, thread_id: str, text: str) -> int:
    r = httpx.post(f"{url}/chat/threads/{thread_id}/messages", json={"text": text},
                   headers=user.in_tenant(tenant), timeout=30)
    assert r.status_code == 201, r.text
    return int(r.json()["seq"])


def created_seqs(events: list) -> list[int]:  # noqa: ANN001 - SseEvent list
    return [e.data["seq"] for e in events if e.event == "message.created"]

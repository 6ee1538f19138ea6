"""A local gateway fleet (``STUDIO_GATEWAY_PROCESSES``) as the fleet tests drive it: two processes
started and waited for, their members' ports and pids from ``<data>/fleet/``, the few chat calls the
tests make against one member, and the presence steps they share (a user on each process, one killed)."""
from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection

from infra.localrun import fleet
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.realtime_clients import ws_connect, ws_frames, ws_until
from tests.support.redis_server import RedisServer
from tests.support.runtime_process import RuntimeProcess

HEARTBEAT_S = 0.5  # the fleet's presence heartbeat: an entry expires after 3 of them


@dataclass
class Room:
    """A thread two users share: its owner and a member (the friend)."""

    owner: User
    friend: User
    tenant: str
    thread_id: str

    @property
    def path(self) -> str:
        return f"/ws/chat/{self.thread_id}"


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

    def kill_member(self, index: int) -> None:
        """kill -9 of one gateway process, its clients still connected (the others go on)."""
        member = next(m for m in self.members if m["index"] == index)
        os.kill(member["pid"], signal.SIGKILL)

    def meet_across(self, room: Room, stack: ExitStack) -> tuple[ClientConnection, ClientConnection]:
        """The owner's socket on process 0, then the friend's on process 1: the owner is told of the join
        and of the friend typing across processes. Both sockets close with ``stack``."""
        a = stack.enter_context(ws_connect(self.url(0), room.path, room.owner.in_tenant(room.tenant)))
        assert ws_frames(a, 1)[0]["data"]["presence"] == [room.owner.user_id]
        b = stack.enter_context(ws_connect(self.url(1), room.path, room.friend.in_tenant(room.tenant)))
        ws_frames(b, 1)
        joined = ws_until(a, lambda fs: fs[-1]["type"] == "presence.join")[-1]
        assert joined["data"]["user_id"] == room.friend.user_id  # told across processes
        b.send(json.dumps({"type": "typing", "active": True}))
        typing = ws_until(a, lambda fs: fs[-1]["type"] == "typing")[-1]
        assert typing["data"] == {"user_id": room.friend.user_id, "active": True}
        return a, b

    def assert_both_present_on(self, index: int, room: Room) -> None:
        """A third client (the owner again) on process ``index`` is greeted with both users, whichever
        process they are on."""
        with ws_connect(self.url(index), room.path, room.owner.in_tenant(room.tenant)) as third:
            hello = ws_frames(third, 1)[0]
            assert sorted(hello["data"]["presence"]) == sorted([room.owner.user_id, room.friend.user_id])

    def assert_killed_user_leaves(self, watcher: ClientConnection, room: Room) -> None:
        """Process 1 (the friend's) dies: ``watcher`` is told the friend left within the stated expiry
        (3 heartbeats, checked every beat)."""
        self.kill_member(1)
        started = time.monotonic()
        left = ws_until(watcher, lambda fs: fs[-1]["type"] == "presence.leave", timeout=4 * HEARTBEAT_S + 5)[-1]
        took = time.monotonic() - started
        assert left["data"]["user_id"] == room.friend.user_id
        assert took <= 4 * HEARTBEAT_S + 1.0, took


def two_processes(data_dir: Path, **env: str) -> Iterator[Fleet]:
    """Body of a fixture: the runtime as two gateway processes on one port (``env`` added to their
    environment), yielded once both answer, stopped after."""
    runtime = RuntimeProcess(data_dir, STUDIO_GATEWAY_PROCESSES="2", STUDIO_PRESENCE_HEARTBEAT_S=str(HEARTBEAT_S), **env)
    runtime.start(timeout=40)
    running = Fleet(runtime, data_dir)
    try:
        running.wait_ready(2)
        yield running
    finally:
        runtime.stop()


@pytest.fixture
def on_broker(tmp_path: Path, redis_server: RedisServer) -> Iterator[Fleet]:
    """Two gateway processes on a real redis-server (``STUDIO_REALTIME_BROKER``); a test module that
    uses it imports this and the ``redis_server`` fixture."""
    yield from two_processes(tmp_path / "data", STUDIO_REALTIME_BROKER=redis_server.url,
                             STUDIO_BROKER_SAFETY_POLL_S="60")


def healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def health(url: str) -> dict[str, Any]:
    """A member's ``/healthz/realtime``: its feeds, broker counters and heap policy."""
    return dict(httpx.get(url + "/healthz/realtime", timeout=5).json())


def owned_thread(fleet: Fleet, tenant_name: str) -> tuple[User, str, str]:
    """A new user owning a new tenant and a thread in it, made through member 0: (owner, tenant, thread)."""
    with httpx.Client(base_url=fleet.url(0), timeout=30) as c:
        owner = new_user(c)
        tenant = new_tenant(c, owner, tenant_name)
        return owner, tenant, new_thread(c, owner, tenant)


def new_thread(c: httpx.Client, user: User, tenant: str) -> str:
    return str(c.post("/chat/threads", json={"title": "fleet"}, headers=user.in_tenant(tenant)).json()["id"])


def post_message(url: str, user: User, tenant: str, thread_id: str, text: str) -> int:
    r = httpx.post(f"{url}/chat/threads/{thread_id}/messages", json={"text": text},
                   headers=user.in_tenant(tenant), timeout=30)
    assert r.status_code == 201, r.text
    return int(r.json()["seq"])


def created_seqs(events: list) -> list[int]:  # noqa: ANN001 - SseEvent list
    return [e.data["seq"] for e in events if e.event == "message.created"]


def new_room(url: str, tenant_name: str) -> Room:
    with httpx.Client(base_url=url, timeout=30) as c:
        owner = new_user(c)
        tenant = new_tenant(c, owner, tenant_name)
        friend = new_user(c, "friend")
        add_member(c, owner, tenant, friend, "member")
        return Room(owner, friend, tenant, new_thread(c, owner, tenant))

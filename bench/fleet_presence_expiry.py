"""Presence across a gateway fleet when a member dies: the time from a kill -9 of the member a user
is connected to until a client on the other member is told that user left, at the default heartbeat
(``STUDIO_PRESENCE_HEARTBEAT_S``, 5 s). The stated expiry (decision 0072): an instance not heard from
for 3 heartbeats is dead, checked every heartbeat, so 3-4 heartbeats (15-20 s). The integration test
(tests/integration/test_gateway_fleet.py) holds the same bound with 0.5 s heartbeats."""
from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Result, heading
from infra.localrun import fleet
from tests.support.api import add_member, new_tenant, new_user
from tests.support.realtime_clients import ws_connect, ws_frames, ws_until
from tests.support.runtime_process import RuntimeProcess

HEARTBEAT_S = 5.0  # the default (studio settings)
STATED_S = 4 * HEARTBEAT_S  # 3 heartbeats of silence, noticed at the next check


def measure() -> float:
    with tempfile.TemporaryDirectory(prefix="bench-presence-") as tmp:
        data = Path(tmp) / "data"
        runtime = RuntimeProcess(data, STUDIO_GATEWAY_PROCESSES="2").start(timeout=60)
        try:
            deadline = time.monotonic() + 60
            while len(members := fleet.members(data)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            urls = [f"http://127.0.0.1:{m['port']}" for m in sorted(members, key=lambda m: m["index"])]
            for url in urls:  # both members serve before the clients connect
                while httpx.get(url + "/healthz", timeout=5).status_code != 200:
                    time.sleep(0.1)
            with httpx.Client(base_url=urls[0], timeout=30) as c:
                owner, friend = new_user(c), new_user(c, "friend")
                tenant = new_tenant(c, owner, "Presence expiry")
                add_member(c, owner, tenant, friend, "member")
                thread_id = c.post("/chat/threads", json={"title": "expiry"}, headers=owner.in_tenant(tenant)).json()["id"]
            path = f"/ws/chat/{thread_id}"
            with ws_connect(urls[0], path, owner.in_tenant(tenant)) as a, \
                    ws_connect(urls[1], path, friend.in_tenant(tenant)) as b:
                ws_frames(a, 1)
                ws_frames(b, 1)
                ws_until(a, lambda fs: fs[-1]["type"] == "presence.join", timeout=30)
                time.sleep(HEARTBEAT_S)  # a roster or two have gone round: the steady state
                killed = next(m for m in members if m["index"] == 1)
                os.kill(int(killed["pid"]), signal.SIGKILL)
                started = time.monotonic()
                left = ws_until(a, lambda fs: fs[-1]["type"] == "presence.leave", timeout=STATED_S + 15)[-1]
                took = time.monotonic() - started
                if left["data"]["user_id"] != friend.user_id:
                    raise RuntimeError(f"the wrong user left: {left}")
                return took
        finally:
            runtime.stop()


def run(verbose: bool = False) -> list[Result]:
    heading("presence across the fleet: kill -9 of a member -> its user leaves on the other")
    took = measure()
    print(f"  presence.leave {took:.1f} s after the kill (stated: within {STATED_S:.0f} s at a "
          f"{HEARTBEAT_S:.0f} s heartbeat)", flush=True)
    return [Result("fleet_presence_expiry", "kill -9 -> presence.leave on the other member", took, "s",
                   STATED_S, "stated expiry (4 heartbeats)", 1.0)]


if __name__ == "__main__":
    run(True)

"""Cross-process wake-ups (decision 0071): a commit in another process reaches this process's change
listener without waiting for the (1 s, with waking on) safety poll; a dead peer's marker is dropped."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from infra.localrun.manifest import REPO
from studio.adapters import process_wake
from studio.adapters.sqlite_store import SqliteStore

pytestmark = pytest.mark.skipif(not process_wake.supported(), reason="abstract AF_UNIX sockets are Linux's")

_WRITER = """
import sys, time
from studio.adapters.sqlite_store import SqliteStore
store = SqliteStore(sys.argv[1], wake=True)
time.sleep(1.2)  # the listener's peer list is rescanned at most once a second
for i in range(5):
    store.put(f"wake/w{i}", {"t": time.time()})
    time.sleep(0.2)
"""


def test_a_write_in_another_process_wakes_the_listener_at_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db", wake=True)
    assert store.poll_s == 1.0  # only the safety net: without the wake-up each change would wait for it
    latencies: list[float] = []
    done = threading.Event()

    def seen(change: object) -> None:
        latencies.append(time.time() - float(change.data["t"]))  # type: ignore[attr-defined]
        if len(latencies) == 5:
            done.set()

    watch = store.watch("wake", seen)
    subprocess.run([sys.executable, "-c", _WRITER, str(tmp_path / "store.db")], check=True, timeout=30,
                   env={"PYTHONPATH": str(REPO / "shared")})
    assert done.wait(5)
    watch.close()
    assert sorted(latencies)[2] < 0.2, latencies  # the median: far under the 1 s poll


def test_a_dead_peer_is_forgotten(tmp_path: Path) -> None:
    woken = threading.Event()
    alive = process_wake.ProcessWake(tmp_path / "x.db", woken.set)
    ringer = process_wake.ProcessWake(tmp_path / "x.db", lambda: None)
    dead = tmp_path / "x.db.wake" / "999999-deadbeef0000"
    dead.touch()  # a marker whose process is gone: nobody is bound to its address
    try:
        ringer.ring()
        assert woken.wait(2)
        assert not dead.exists()
    finally:
        alive.close()
        ringer.close()

"""SqliteBus survives kill -9: published messages stay, an unacked lease comes back after expiry."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.adapters.sqlite_bus import SqliteBus

ROOT = Path(__file__).resolve().parents[2]
N = 50
LEASE_S = 0.5

# The child publishes, leases one message without acking it, then hangs until killed.
CHILD = f"""
import sys, time
from studio.adapters.sqlite_bus import SqliteBus
bus = SqliteBus(sys.argv[1])
bus.subscribe("s", "t", ack_deadline_s={LEASE_S})
for i in range({N}):
    bus.publish("t", str(i).encode(), {{"i": str(i)}})
print("published", flush=True)
[leased] = bus.pull("s", max_messages=1)
print("leased", leased.message.data.decode(), flush=True)
time.sleep(60)
"""


def _lines(proc: subprocess.Popen) -> tuple[queue.Queue[str], threading.Thread]:
    """Child stdout lines, read on a thread so a hung child fails the test instead of hanging it."""
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line.strip()) for line in proc.stdout], daemon=True)
    reader.start()
    return lines, reader


def _next(lines: queue.Queue[str], proc: subprocess.Popen) -> str:
    try:
        return lines.get(timeout=10)
    except queue.Empty:
        proc.kill()
        raise AssertionError(f"child said nothing; stderr: {proc.stderr.read()}") from None


@pytest.mark.slow
def test_kill_9_loses_nothing(tmp_path: Path):
    path = tmp_path / "bus.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines, reader = _lines(proc)
    try:
        assert _next(lines, proc) == "published"
        leased_line = _next(lines, proc)
        assert leased_line.startswith("leased ")
        leased_data = leased_line.split()[1].encode()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)  # EOF once the child is dead; only then close the pipes
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    bus = SqliteBus(path)
    try:
        bus.subscribe("s", "t", ack_deadline_s=LEASE_S)
        seen: dict[bytes, int] = {}
        deadline = time.monotonic() + 5
        while len(seen) < N and time.monotonic() < deadline:
            batch = bus.pull("s", max_messages=100)
            for d in batch:
                seen[d.message.data] = d.attempt
                assert d.message.attributes == {"i": d.message.data.decode()}
                bus.ack(d)
            if not batch:
                time.sleep(0.05)
        assert set(seen) == {str(i).encode() for i in range(N)}  # nothing lost
        assert seen[leased_data] == 2  # the crashed lease, redelivered after it expired
        assert all(attempt == 1 for data, attempt in seen.items() if data != leased_data)
        assert bus.stats("s") == {"pending": 0, "in_flight": 0, "acked": N, "dead_lettered": 0, "redelivered": 1}
    finally:
        bus.close()

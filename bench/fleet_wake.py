"""Cross-process wake-up: a document written by one process, seen by a change listener in another.
Today's SQLite feed polls every 50 ms for other processes' writes; with ``cross_process_wake`` the
writer rings the listeners' datagram sockets after its commit (studio/adapters/process_wake.py).
Reported: write -> listener p50/p99 with wake-ups, beside the poll (docs/decisions/0071)."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import Result, heading, percentile

WRITES = 200
GAP_S = 0.013  # not a multiple of the poll: writes land anywhere in its period

_WRITER = """
import sys, time
from studio.adapters.sqlite_store import SqliteStore
store = SqliteStore(sys.argv[1], wake=sys.argv[2] == "1")
time.sleep(1.5)  # the listener's peer list is rescanned every second
for i in range(int(sys.argv[3])):
    store.put(f"wake/w{i:05d}", {"t": time.time()})
    time.sleep(float(sys.argv[4]))
"""


def _measure(folder: Path, wake: bool) -> list[float]:
    from studio.adapters.sqlite_store import SqliteStore

    db = folder / f"store-{int(wake)}.db"
    store = SqliteStore(db, wake=wake)
    latencies: list[float] = []
    done = threading.Event()

    def seen(change: object) -> None:
        data = getattr(change, "data", None) or {}
        latencies.append((time.time() - float(data["t"])) * 1000)
        if len(latencies) >= WRITES:
            done.set()

    watch = store.watch("wake", seen)
    writer = subprocess.run([sys.executable, "-c", _WRITER, str(db), "1" if wake else "0", str(WRITES), str(GAP_S)],
                            env={"PYTHONPATH": str(Path(__file__).resolve().parents[1] / "shared")}, check=True)
    assert writer.returncode == 0
    done.wait(10)
    watch.close()
    return latencies


def run(verbose: bool = False) -> list[Result]:
    heading("cross-process wake-up: write in one process -> change listener in another")
    with tempfile.TemporaryDirectory(prefix="bench-wake-") as tmp:
        poll = _measure(Path(tmp), wake=False)
        wake = _measure(Path(tmp), wake=True)
    if verbose:
        print(f"  poll p50 {percentile(poll, 50):.2f} ms p99 {percentile(poll, 99):.2f} ms; "
              f"wake p50 {percentile(wake, 50):.2f} ms p99 {percentile(wake, 99):.2f} ms")
    return [
        Result("fleet_wake", "other process's write -> listener p50", percentile(wake, 50), "ms",
               percentile(poll, 50), "50 ms poll", goal=None, extra={"samples": len(wake)}),
        Result("fleet_wake", "other process's write -> listener p99", percentile(wake, 99), "ms",
               percentile(poll, 99), "50 ms poll", goal=None, extra={"samples": len(wake)}),
    ]


if __name__ == "__main__":
    for r in run(verbose=True):
        print(r.to_json())

"""Cross-process wake-up: a document written by one process, seen by a change listener in another.
Today's SQLite feed polls every 50 ms for other processes' writes; with ``cross_process_wake`` the
writer rings the listeners' datagram sockets after its commit (studio/adapters/process_wake.py).
Reported: write -> listener p50/p99 with wake-ups, beside the poll (docs/decisions/0071)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Result, heading
from bench.cross_process import Arrivals, p50_p99, run_writer

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
    clock = Arrivals(WRITES)

    def seen(change: object) -> None:
        data = getattr(change, "data", None) or {}
        clock.arrived(float(data["t"]))

    watch = store.watch("wake", seen)
    run_writer(_WRITER, db, "1" if wake else "0", WRITES, GAP_S)
    clock.done.wait(10)
    watch.close()
    return clock.ms


def run(verbose: bool = False) -> list[Result]:
    heading("cross-process wake-up: write in one process -> change listener in another")
    with tempfile.TemporaryDirectory(prefix="bench-wake-") as tmp:
        poll = _measure(Path(tmp), wake=False)
        wake = _measure(Path(tmp), wake=True)
    return p50_p99("fleet_wake", "other process's write -> listener", "wake", wake, "50 ms poll", poll,
                   verbose=verbose)


if __name__ == "__main__":
    for r in run(verbose=True):
        print(r.to_json())

"""A data folder whose SQLite files this process has open is read by another process (tests/support/
sqlite_locks.py): reading them here drops SQLite's locks, and then another process's worker never sees this
process's messages (the full suite's "never took a chunk" and "disk I/O error" in the render chunk tests)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.adapters.sqlite_bus import SqliteBus
from tests.support.sqlite_locks import PROC_LOCKS, bytes_on_disk, held_by_this_process

pytestmark = pytest.mark.skipif(not PROC_LOCKS.exists(), reason="needs Linux's /proc/locks")

_PULL = """
import sys
from studio.adapters.sqlite_bus import SqliteBus
bus = SqliteBus(sys.argv[1])
print(len(bus.pull("s", 100)))
bus.close()
"""


def _pulled_by_another_process(path: Path) -> int:
    """Open the bus in a new process, pull what is there, close (the last user's close deletes the -wal)."""
    shared = str(Path(__file__).resolve().parents[2] / "shared")
    done = subprocess.run([sys.executable, "-c", _PULL, str(path)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": shared})
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def _bus_in_use(tmp_path: Path) -> SqliteBus:
    bus = SqliteBus(tmp_path / "bus.db")
    bus.subscribe("s", "t")
    bus.publish("t", b"first")
    assert held_by_this_process(tmp_path / "bus.db") and held_by_this_process(tmp_path / "bus.db-shm")
    return bus


def test_reading_the_files_from_another_process_keeps_the_locks_and_the_messages_flowing(tmp_path: Path) -> None:
    bus = _bus_in_use(tmp_path)
    try:
        assert b"first" in bytes_on_disk(tmp_path)  # the WAL's bytes are read too
        assert held_by_this_process(tmp_path / "bus.db") and held_by_this_process(tmp_path / "bus.db-shm")
        assert _pulled_by_another_process(tmp_path / "bus.db") == 1
        bus.publish("t", b"second")
        assert _pulled_by_another_process(tmp_path / "bus.db") == 1  # it sees what this process wrote since
    finally:
        bus.close()


def test_reading_them_here_drops_the_locks_and_hides_this_process_writes(tmp_path: Path) -> None:
    # The failure the guard in tests/conftest.py catches, shown on a bus of its own.
    bus = _bus_in_use(tmp_path)
    try:
        b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())  # open, read, close
        assert not held_by_this_process(tmp_path / "bus.db") and not held_by_this_process(tmp_path / "bus.db-shm")
        assert _pulled_by_another_process(tmp_path / "bus.db") == 1  # it took itself for the only user...
        assert not (tmp_path / "bus.db-wal").exists()  # ...and deleted the -wal this process still writes to
        bus.publish("t", b"second")
        assert _pulled_by_another_process(tmp_path / "bus.db") == 0  # so this process's message is lost to it
    finally:
        bus.close()

"""``private_file`` on a database this process has open must leave SQLite's locks in place: closing any
descriptor of a file drops every POSIX lock the process holds on it (fcntl semantics), which let another
process write under a transaction that believed it held the file (a full suite saw "disk I/O error")."""
from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

from studio.adapters.private_files import private_file

_PEEK = """
import sqlite3, sys
try:
    sqlite3.connect(sys.argv[1], timeout=0).execute("SELECT count(*) FROM sqlite_master").fetchone()
except sqlite3.OperationalError as exc:
    print(exc)
else:
    print("read")
"""


def _peek_from_another_process(path: Path) -> str:
    return subprocess.run([sys.executable, "-c", _PEEK, str(path)], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


def test_an_exclusive_lock_survives_private_file_on_the_same_database(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        assert _peek_from_another_process(path) == "database is locked"  # the lock is real
        private_file(path)
        assert _peek_from_another_process(path) == "database is locked"  # and still held
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_an_existing_file_is_made_private_and_a_missing_one_created_private(tmp_path: Path) -> None:
    existing = tmp_path / "open.db"
    existing.write_bytes(b"")
    os.chmod(existing, 0o644)
    private_file(existing)
    private_file(tmp_path / "new.db")
    for path in (existing, tmp_path / "new.db"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

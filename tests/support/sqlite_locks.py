"""SQLite's POSIX locks on a data folder that this process has open, and how to read its files without
dropping them.

Closing any descriptor of a file drops every POSIX (fcntl) lock the process holds on that file, whichever
descriptor took them. SQLite in WAL mode holds two for as long as a connection is open: a SHARED lock on
the database file and a read lock on the "dead-man switch" byte of its ``-shm``. If code in this process
opens and closes ``store.db``, ``bus.db`` or their ``-wal``/``-shm`` itself (``open``, ``read_bytes``,
``shutil.copy``...), both go. The next process to open the database then takes itself for the only user:
it rebuilds the ``-shm``, and when it closes it checkpoints and deletes the ``-wal`` and ``-shm`` that this
process goes on writing into. This process's commits are then seen by no other process (a worker
process on the bus "never takes" its messages) and a new connection here fails with "disk I/O error".
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROC_LOCKS = Path("/proc/locks")  # Linux's table of every file lock, with the holder's pid
DATABASES = ("store.db", "bus.db")  # the embedded store's and bus's files in a data folder

_READ_ALL = """
import pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    try:
        if path.is_file():
            sys.stdout.buffer.write(path.read_bytes())
    except FileNotFoundError:
        pass  # a temporary file renamed away meanwhile
"""


def bytes_on_disk(root: Path) -> bytes:
    """Every file under ``root``, concatenated, read by a child process: its descriptors are not this
    process's, so closing them leaves this process's locks on the live databases alone."""
    return subprocess.run([sys.executable, "-c", _READ_ALL, str(root)], capture_output=True, check=True,
                          timeout=120).stdout


def held_by_this_process(path: Path) -> bool:
    """Whether this process holds any POSIX lock on ``path`` (by device and inode, as /proc/locks names it)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return False
    wanted = (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino)
    pid = str(os.getpid())
    for line in PROC_LOCKS.read_text().splitlines():
        # "1: POSIX  ADVISORY  READ 25672 fe:00:2198108 128 128"; a blocked request's line has "->" first
        fields = line.split()
        if len(fields) < 8 or fields[1] != "POSIX" or fields[4] != pid:
            continue
        major, minor, inode = fields[5].split(":")
        if (int(major, 16), int(minor, 16), int(inode)) == wanted:
            return True
    return False


def lost_locks(data_dir: Path) -> list[str]:
    """The embedded databases' files in ``data_dir`` on which this process, which has them open, no longer
    holds SQLite's locks ([] where /proc/locks does not exist: not Linux)."""
    if not PROC_LOCKS.exists():
        return []
    return [name for db in DATABASES for name in (db, f"{db}-shm") if not held_by_this_process(data_dir / name)]

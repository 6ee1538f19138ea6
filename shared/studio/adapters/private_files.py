"""The embedded adapters' files hold password hashes, refresh tokens and keys: only their owner
may read them. Directories are 0700 and files 0600, set explicitly after creation, because a
mode given to ``open``/``mkdir`` is only ANDed with the umask and a permissive umask would leave
them readable. SQLite gives a database's ``-wal`` and ``-shm`` the database file's own mode, so
creating the database file 0600 first covers them. Each adapter also repairs the files it owns
when it opens them (written before this rule), and the local runtime closes the data folder itself.
"""
from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``mkdir -p path``: every directory it creates is 0700 (existing ones are left alone:
    ``tighten_tree`` owns those, and must never chmod a shared parent such as /tmp)."""
    missing: list[Path] = []
    at = Path(path)
    while not at.exists():
        missing.append(at)
        at = at.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=DIR_MODE)
        os.chmod(directory, DIR_MODE)
    return Path(path)


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it is missing; either way make it 0600.

    An existing file is never opened here, only chmod-ed by name: closing any descriptor of a file drops
    every POSIX lock this process holds on it, so opening a SQLite database that another connection of
    this process is using, and closing it again, would silently release that connection's locks (and
    another process writing next would see "disk I/O error" or worse)."""
    private_dir(Path(path).parent)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        tighten(Path(path))
        return Path(path)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return Path(path)


def open_private(path: Path, mode: str = "a+b") -> IO[bytes]:
    """``open(path, mode)`` for a binary file that is created 0600 (lock files, counters)."""
    private_file(path)
    return open(path, mode)  # noqa: SIM115 - the caller closes it (with-statement)


def fchmod_private(fd: int) -> None:
    """For a temp file about to be renamed into place (mkstemp's 0600 is umask-dependent too)."""
    os.fchmod(fd, FILE_MODE)


def tighten(*paths: Path) -> None:
    """Make each existing file 0600 (missing ones are skipped: a SQLite -wal may not exist)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            _tighten_one(Path(path), os.lstat(path))


def tighten_dir(path: Path) -> None:
    """Make the existing directory ``path`` 0700, unless it is sticky: a shared directory such as
    /tmp, named as the data folder by mistake, is not ours to close."""
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(path)
        if stat.S_ISDIR(info.st_mode) and not info.st_mode & stat.S_ISVTX:
            _tighten_one(Path(path), info)


def tighten_tree(root: Path) -> None:
    """``tighten_dir(root)``, then every directory under it 0700 and every file 0600. For a folder
    that only we write (the blobs' root), never for one a user named. Symlinks are not followed;
    entries owned by someone else are left alone."""
    tighten_dir(root)
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            with contextlib.suppress(FileNotFoundError):
                _tighten_one(path, os.lstat(path))


def _tighten_one(path: Path, info: os.stat_result) -> None:
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    wanted = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
    if stat.S_IMODE(info.st_mode) != wanted:
        os.chmod(path, wanted)

"""Cross-process wake-ups for the embedded adapters: a writer in one process wakes the waiters
of every other process that opened the same SQLite file, in well under a millisecond, instead of
their next 50 ms poll (docs/decisions/0071-gateway-fleet-on-one-machine.md).

Each process that opens a file with waking on binds one Linux abstract-namespace datagram socket
(no file on disk, gone when the process dies) and writes a marker file naming it in
``<file>.wake/``. After a commit, ``ring()`` sends one byte to every other marker's socket; a
marker whose socket refuses (its process died) is deleted. A reader thread per process turns each
datagram into a call of ``on_wake``, which notifies that process's in-process waiters. A lost
datagram costs what polling did: the waiters keep a (longer) safety poll.
"""
from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from studio.kernel import logs

_log = logs.get("studio.adapters.wake")
_RESCAN_S = 1.0  # how stale the list of peers may be: a new process misses rings for at most this long


def supported() -> bool:
    return sys.platform.startswith("linux")  # abstract-namespace AF_UNIX sockets are Linux's


class ProcessWake:
    def __init__(self, db_path: Path, on_wake: Callable[[], None]) -> None:
        self._dir = Path(str(db_path) + ".wake")
        self._dir.mkdir(mode=0o700, exist_ok=True)
        # The marker directory's identity scopes the names: two data folders never wake each other.
        self._scope = b"\0studio-wake-" + str(self._dir.stat().st_ino).encode() + b"-"
        self._name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._on_wake = on_wake
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self._address(self._name))
        self._sock.settimeout(0.5)  # so close() is noticed by the reader thread
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out.setblocking(False)
        marker = self._dir / self._name
        marker.touch(mode=0o600)
        self._marker = marker
        self._peers: list[str] = []
        self._scanned = 0.0
        self._lock = threading.Lock()
        self._closed = False
        self.rings_sent = 0
        self.wakes_received = 0
        self._thread = threading.Thread(target=self._listen, name="process-wake", daemon=True)
        self._thread.start()

    def _address(self, name: str) -> bytes:
        return self._scope + name.encode()

    def _scan(self) -> list[str]:
        now = time.monotonic()
        with self._lock:
            if now - self._scanned > _RESCAN_S:
                self._peers = [p.name for p in self._dir.iterdir() if p.name != self._name]
                self._scanned = now
            return list(self._peers)

    def ring(self) -> None:
        """After a commit: wake every other process on this file. Never blocks, never raises."""
        for peer in self._scan():
            try:
                self._out.sendto(b"!", self._address(peer))
                self.rings_sent += 1
            except ConnectionRefusedError:  # its process is gone: forget it
                (self._dir / peer).unlink(missing_ok=True)
                with self._lock:
                    self._scanned = 0.0
            except (BlockingIOError, FileNotFoundError, OSError):
                pass  # a full queue means a wake is pending there already

    def _listen(self) -> None:
        while not self._closed:
            try:
                self._sock.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            self.wakes_received += 1
            try:
                self._on_wake()
            except Exception:  # noqa: BLE001 - the wake thread must outlive a waiter's bug
                _log.exception("wake callback failed")

    def close(self) -> None:
        self._closed = True
        self._marker.unlink(missing_ok=True)
        self._thread.join(timeout=2)
        self._sock.close()
        self._out.close()

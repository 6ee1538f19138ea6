"""Slow clients on raw loopback sockets: each sends its opening at once, then the rest one byte
per tick, and keeps whatever the server answers. One thread drives them all; every loop is
bounded by ``for_s``."""
from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any


@dataclass
class SlowSocket:
    opening: bytes
    rest: bytes
    sock: socket.socket | None = None
    received: bytearray = field(default_factory=bytearray)
    closed_after_s: float | None = None  # when the server closed it, from the start
    sent: int = 0

    @property
    def status(self) -> int | None:
        head = bytes(self.received).split(b"\r\n", 1)[0].split(b" ")
        return int(head[1]) if len(head) > 1 and head[0].startswith(b"HTTP/") and head[1].isdigit() else None

    def problem(self) -> dict[str, Any]:
        _, _, body = bytes(self.received).partition(b"\r\n\r\n")
        return dict(json.loads(body))


class Trickle:
    def __init__(self, port: int, clients: list[tuple[bytes, bytes]], *, interval_s: float, for_s: float) -> None:
        self.port = port
        self.clients = [SlowSocket(opening, rest) for opening, rest in clients]
        self.interval_s = interval_s
        self.for_s = for_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trickle", daemon=True)
        self.started = 0.0

    def __enter__(self) -> Trickle:
        self.started = time.monotonic()
        for client in self.clients:
            client.sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            if client.opening:
                client.sock.sendall(client.opening)
            client.sock.setblocking(False)
        self._thread.start()
        return self

    def __exit__(self, *exc: object | TracebackType) -> None:
        self._stop.set()
        self._thread.join(timeout=self.for_s + 5)
        for client in self.clients:
            if client.sock is not None:
                client.sock.close()

    def wait(self) -> list[SlowSocket]:
        """Until every socket is closed by the server, or ``for_s`` is over."""
        self._thread.join(timeout=self.for_s + 5)
        return self.clients

    def _run(self) -> None:
        deadline = self.started + self.for_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            open_ = [c for c in self.clients if c.closed_after_s is None]
            if not open_:
                return
            for client in open_:
                self._step(client)
            self._stop.wait(self.interval_s)

    def _step(self, client: SlowSocket) -> None:
        assert client.sock is not None
        try:
            while True:
                data = client.sock.recv(65536)
                if not data:
                    client.closed_after_s = time.monotonic() - self.started
                    return
                client.received += data
        except BlockingIOError:
            pass
        except OSError:
            client.closed_after_s = time.monotonic() - self.started
            return
        if client.sent < len(client.rest) and not client.received:
            with contextlib.suppress(BlockingIOError):
                try:
                    client.sent += client.sock.send(client.rest[client.sent:client.sent + 1])
                except OSError:
                    client.closed_after_s = time.monotonic() - self.started


def raw_exchange(port: int, request: bytes, *, timeout_s: float = 10.0) -> bytes:
    """Send ``request`` (stopping where the server stops reading) and return all it answers."""
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        with contextlib.suppress(OSError):  # a server that refuses early closes while we still send
            for at in range(0, len(request), 16384):
                sock.sendall(request[at:at + 16384])
        deadline = time.monotonic() + timeout_s
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
    return bytes(received)


def status_of(response: bytes) -> int | None:
    return SlowSocket(b"", b"", received=bytearray(response)).status


def problem_of(response: bytes) -> dict[str, Any]:
    return SlowSocket(b"", b"", received=bytearray(response)).problem()

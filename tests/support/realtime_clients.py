"""Minimal SSE and WebSocket clients over real loopback connections, for the realtime tests."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: Any


def parse_sse(lines: Iterable[str], comments: list[str] | None = None) -> Iterator[SseEvent]:
    """Parse event-stream lines: yields each dispatched event (retry lines skipped; comments
    collected into ``comments`` when given)."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                yield SseEvent(fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]))
            fields = {}
        elif line.startswith(":"):
            if comments is not None:
                comments.append(line[1:].strip())
        else:
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value


def sse_events(response: httpx.Response) -> Iterator[SseEvent]:
    return parse_sse(response.iter_lines())


class SseReader:
    """Reads a stream on a thread into a list, so a test can stop it at any point."""

    def __init__(self, client: httpx.Client, url: str, headers: dict[str, str]) -> None:
        self.events: list[SseEvent] = []
        self.status: int | None = None
        self._cm = client.stream("GET", url, headers=headers, timeout=httpx.Timeout(30, read=30))
        self._resp = self._cm.__enter__()
        self.status = self._resp.status_code
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for event in sse_events(self._resp):
                self.events.append(event)
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test
        finally:
            self._done.set()

    def wait_for(self, predicate: Any, timeout: float = 10) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            if time.monotonic() > deadline or self._done.is_set() and not predicate(self.events):
                raise AssertionError(f"condition not met; got {[(e.event, e.id) for e in self.events]}")
            time.sleep(0.01)

    def close(self) -> None:
        self._resp.close()
        self._cm.__exit__(None, None, None)
        self._thread.join(timeout=5)

    @property
    def last_id(self) -> str | None:
        ids = [e.id for e in self.events if e.id is not None]
        return ids[-1] if ids else None


def ws_connect(base_url: str, path: str, headers: dict[str, str] | None = None) -> ClientConnection:
    return connect(base_url.replace("http://", "ws://") + path, additional_headers=headers or {}, open_timeout=10)


def ws_frames(conn: ClientConnection, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    return [json.loads(conn.recv(timeout=timeout)) for _ in range(count)]


def ws_until(conn: ClientConnection, predicate: Any, timeout: float = 10) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while not frames or not predicate(frames):
        frames.append(json.loads(conn.recv(timeout=timeout)))
    return frames


class SlowSseSocket:
    """An SSE stream on a bare socket with a small receive buffer, read only when the test says:
    a client too slow for the stream, so the gateway meets backpressure on it."""

    def __init__(self, base_url: str, path: str, headers: dict[str, str], rcvbuf: int = 4096) -> None:
        import socket

        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: a small window
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream",
                 *(f"{k}: {v}" for k, v in headers.items())]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.raw = b""
        while b"\r\n\r\n" not in self.raw:
            self.raw += self.sock.recv(4096)
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        assert b"transfer-encoding: chunked" in head.lower()
        self.text = b""
        self.events: list[SseEvent] = []
        self.comments: list[str] = []

    def read_until(self, predicate: Any, timeout: float = 30) -> list[SseEvent]:
        """Read until ``predicate(self)`` holds (events and comments parsed so far)."""
        import time

        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met; got {[(e.event, e.id) for e in self.events][-5:]}, "
                                     f"{len(self.comments)} comments")
            self.sock.settimeout(remaining)
            self.raw += self.sock.recv(1 << 16)
            self._parse()
        return self.events

    def _parse(self) -> None:
        while (eol := self.raw.find(b"\r\n")) >= 0:  # chunked framing
            size = int(self.raw[:eol], 16)
            if len(self.raw) < eol + 4 + size:
                break
            self.text += self.raw[eol + 2:eol + 2 + size]
            self.raw = self.raw[eol + 4 + size:]
        while b"\n\n" in self.text:
            block, self.text = self.text.split(b"\n\n", 1)
            self.events += parse_sse([*block.decode().split("\n"), ""], self.comments)

    def close(self) -> None:
        self.sock.close()

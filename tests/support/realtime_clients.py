"""Minimal SSE and WebSocket clients over real loopback connections, for the realtime tests."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect


@dataclass
class SseEvent:
    id: str | None
    event: str
    data: Any


def sse_events(response: httpx.Response) -> Iterator[SseEvent]:
    """Parse an event stream: yields each dispatched event (comments and retry lines skipped)."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if "data" in fields:
                yield SseEvent(fields.get("id"), fields.get("event", "message"), json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value


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

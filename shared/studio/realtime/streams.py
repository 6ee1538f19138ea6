"""Every stream open on this gateway process, by user and by session.

By user: each user holds at most ``per_user`` streams here (SSE and WebSocket, threads and
meta together); one more is refused with 429 ``TOO_MANY_STREAMS`` before it costs anything.

By session: a stream re-checks its caller every heartbeat, but a logout should not wait for
that. The store tells the gateway when a session ends (``SessionEnds``: one listener per
process); the streams of that session are woken at once, re-check, and end.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from studio.kernel import errors, logs
from studio.ports.store import Watch
from studio.realtime import errors as realtime_errors

_log = logs.get("studio.realtime.streams")


class Recheck:
    """Queued to a stream to make it re-check its caller now (its session ended)."""


RECHECK = Recheck()


class SessionEnds(Protocol):
    def watch_ended(self, on_end: Callable[[str], None]) -> Watch:
        """Call ``on_end(session_id)`` (on a background thread) whenever a session ends."""
        ...


@dataclass(eq=False)
class _Stream:
    user_id: str
    session_id: str | None
    loop: asyncio.AbstractEventLoop
    wake: Callable[[], None]


@dataclass
class OpenStreams:
    per_user: int
    sessions: SessionEnds | None = None
    _by_user: dict[str, set[_Stream]] = field(default_factory=dict)
    _by_session: dict[str, set[_Stream]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _listen_lock: threading.Lock = field(default_factory=threading.Lock)  # apart: starting a listener blocks
    _watch: Watch | None = None
    opened: int = field(default=0, init=False)  # streams counted in since the process started
    closed: int = field(default=0, init=False)  # and released (the heap policy's signal, heap_policy.py)

    def open_stream(self, user_id: str, session_id: str | None, loop: asyncio.AbstractEventLoop,
             wake: Callable[[], None]) -> Callable[[], None]:
        """Count a stream in; ``wake`` runs on ``loop`` if its session ends. Returns its release.
        Blocking the first time (it starts the store listener): call it off the event loop."""
        if session_id and self.sessions is not None and self._watch is None:
            self._listen()
        stream = _Stream(user_id, session_id, loop, wake)
        with self._lock:
            mine = self._by_user.setdefault(user_id, set())
            if len(mine) >= self.per_user:
                if not mine:
                    del self._by_user[user_id]
                raise errors.StudioError(realtime_errors.TOO_MANY_STREAMS, f"at most {self.per_user} open streams per user; "
                                                           "close one first")
            mine.add(stream)
            self.opened += 1
            if session_id:
                self._by_session.setdefault(session_id, set()).add(stream)
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self.closed += 1
                for index, key in ((self._by_user, user_id), (self._by_session, session_id)):
                    group = index.get(key or "")
                    if group is not None:
                        group.discard(stream)
                        if not group:
                            del index[key or ""]

        return release

    def count(self, user_id: str) -> int:
        with self._lock:
            return len(self._by_user.get(user_id, ()))

    def total(self) -> int:
        with self._lock:
            return sum(len(group) for group in self._by_user.values())

    def _listen(self) -> None:
        assert self.sessions is not None
        with self._listen_lock:
            if self._watch is not None:
                return
            self._watch = self.sessions.watch_ended(self._ended)

    def _ended(self, session_id: str) -> None:  # on the store's listener thread
        with self._lock:
            streams = list(self._by_session.get(session_id, ()))
        for stream in streams:
            try:
                stream.loop.call_soon_threadsafe(stream.wake)
            except RuntimeError:  # its loop has closed (the process is stopping): nothing to wake
                _log.debug("stream loop closed")

    def close(self) -> None:
        with self._listen_lock:
            watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()

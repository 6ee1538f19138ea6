"""One live connection's end of a thread feed.

While the connection's task waits (caught up, nothing queued), the feed's fan-out writes
each event straight to the socket: a cursor check and one ASGI send, no task woken per
event. That is what lets one process serve a thousand subscribers of a busy thread.
Whatever needs the task (backpressure, an epoch change, a presence signal, a resume) is
queued, and once one item is queued every later one is queued too until the task has
drained them, so the order on the wire is always the order of the events.

The task also wakes for upkeep at least every ``interval``: ``next`` pings if nothing was
written for ``interval`` and returns None, on which the caller re-checks that its client
may still listen.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from studio.realtime.cursor import Cursor
from studio.realtime.eager import Unfinished, run_eagerly
from studio.realtime.events import EPOCH_CHANGED, ThreadEvent

Message = dict[str, Any]  # an ASGI message
Send = Callable[[Message], Awaitable[None]]
# (event, cursor text) -> the message that carries it; the same for every subscriber at that cursor,
# so renderers cache it on the event (ThreadEvent.rendered) and a fan-out builds it once
Render = Callable[[ThreadEvent, str], Message]

_WAKE = object()  # queued to make the task look at the subscriber (a failure, an unfinished send)


class ClientGone(Exception):
    """A write found the client gone (the server's send raised OSError, as ASGI says it does)."""


@dataclass
class DeliveryStats:
    """How events reached the sockets, per gateway process (``/healthz/realtime``)."""

    direct: int = 0  # written by the fan-out itself
    by_task: int = 0  # written by the connection's task: backfill, queued events
    backpressure: int = 0  # direct writes that had to wait for the socket (finished by the task)
    failed: int = 0  # direct writes that raised: the client was gone, and its stream ended


class Subscriber:
    def __init__(self, cursor: Cursor, render: Render, ping: Callable[[], Message], interval: float,
                 stats: DeliveryStats, send: Send | None = None) -> None:
        self.cursor = cursor
        self.stats = stats
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.interval = interval
        self._render = render
        self._ping = ping
        self._send = send
        self._direct = False  # True only while the task waits with nothing queued
        self._closed = False
        self._unfinished: Unfinished | None = None
        self._woken_by: Any = None  # the item that woke the waiting task, not handed out yet
        self._failure: BaseException | None = None
        self._last_write = self._last_upkeep = time.monotonic()

    def bind(self, send: Send) -> None:
        """The connection's ASGI send, once the response has started (SSE)."""
        self._send = send

    def close(self) -> None:
        """Before the server closes the connection: the fan-out writes nothing more to it."""
        self._closed = True
        self._direct = False
        if self._unfinished is not None:
            self._unfinished.close()
            self._unfinished = None

    # -- on the event loop, from the feed's fan-out and the presence hub ---------
    def offer(self, event: ThreadEvent) -> None:
        if self._closed:
            return
        now = time.monotonic()
        # Queued, not written: while the task is busy; an epoch change (the task ends the stream);
        # and once a re-check is due, so nothing goes out past its deadline unchecked.
        if not self._direct or event.type == EPOCH_CHANGED or now - self._last_upkeep >= self.interval:
            self._enqueue(event)
            return
        try:
            if not self.cursor.advance(event.seq, event.k):
                return
            send = self._send
            assert send is not None, "direct only once bound"  # _direct is set by the task, after bind()
            rest = run_eagerly(send(self._render(event, str(self.cursor))))
        except Exception as exc:  # noqa: BLE001 - raised again in the connection's task, which ends
            self.stats.failed += 1
            self._failure = exc
            if isinstance(exc, OSError):
                self._failure = ClientGone(str(exc))
                self._failure.__cause__ = exc
            self._enqueue(_WAKE)
            return
        self.stats.direct += 1
        self._last_write = now
        if rest is not None:  # backpressure: the task finishes this send before anything else
            self.stats.backpressure += 1
            self._unfinished = rest
            self._enqueue(_WAKE)

    def signal(self, item: Any) -> None:
        """A non-event item for the task (presence and typing frames, a resume)."""
        self._enqueue(item)

    def _enqueue(self, item: Any) -> None:
        self._direct = False
        self.queue.put_nowait(item)

    # -- in the connection's task --------------------------------------------------
    async def send(self, message: Message) -> None:
        assert self._send is not None, "bind() first"
        try:
            await self._send(message)
        except OSError as exc:
            raise ClientGone(str(exc)) from exc
        self._last_write = time.monotonic()

    async def write_event(self, event: ThreadEvent) -> None:
        """Send an event the cursor has not seen yet (backfill, queued events)."""
        if self.cursor.advance(event.seq, event.k):
            await self.send(self._render(event, str(self.cursor)))
            self.stats.by_task += 1

    async def next_item(self) -> Any:
        """The next queued item, or None when it is time to re-check the caller (at least every
        ``interval``). Pings after ``interval`` without a write. While it waits with nothing
        queued, the fan-out writes to the socket directly."""
        while True:
            await self._settle()
            if time.monotonic() - self._last_upkeep >= self.interval:
                return await self._upkeep(ping=time.monotonic() - self._last_write >= self.interval)
            if self._woken_by is not None:
                item, self._woken_by = self._woken_by, None
                return item
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
            else:
                if item is _WAKE:
                    continue
                return item
            # Idle until the next deadline: a ping ``interval`` after the last write, or the
            # re-check ``interval`` after the last upkeep, whichever comes first.
            written = self._last_write
            ping_first = written <= self._last_upkeep
            wait = min(written, self._last_upkeep) + self.interval - time.monotonic()
            self._direct = True
            try:
                async with asyncio.timeout(max(wait, 0.0)):
                    item = await self.queue.get()
            except TimeoutError:
                self._direct = False  # before any await: the upkeep's own writes come first
                await self._settle()
                if not ping_first:
                    return await self._upkeep(ping=False)
                if self._last_write == written:  # silent all along
                    return await self._upkeep(ping=True)
                continue  # written to meanwhile: no ping yet
            finally:
                self._direct = False
            if item is not _WAKE:
                self._woken_by = item  # handed out at the top: a failure, backpressure or a due re-check first

    async def _upkeep(self, ping: bool) -> None:
        now = time.monotonic()
        if ping:
            await self.send(self._ping())
            self._last_write = now  # counted from the upkeep, so pings and re-checks keep in step
        self._last_upkeep = now

    async def _settle(self) -> None:
        """Raise a direct write's failure here; finish a direct write that met backpressure."""
        if self._failure is not None:
            raise self._failure
        if self._unfinished is not None:
            unfinished, self._unfinished = self._unfinished, None
            try:
                await unfinished
            except OSError as exc:
                raise ClientGone(str(exc)) from exc

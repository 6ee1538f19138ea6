"""The gateway's long-lived heap kept out of the collector's full collections (decision 0104).

An open stream holds ~215 objects the garbage collector tracks (the ASGI call stack's suspended
coroutines and their closures, uvicorn's protocol, the stream's tasks, futures and queues). At
5,000 streams a full collection walks ~1.2 million objects: 0.4-0.5 s with the event loop
stopped, and with a busy gateway the default thresholds start one every few tens of seconds.
``gc.freeze()`` moves every tracked object to a permanent generation that no collection walks;
objects frozen are still freed by their reference count, so a stream that closes gives back all
of its memory except what sits in reference cycles. uvicorn's protocol objects do (the protocol,
its transport and its request cycle: ~40 objects per closed connection), and frozen cycles are
never collected. So:

- at start, whenever ``freeze_after`` streams have opened since the last freeze, and when a burst
  of at least a tenth of that is over (a check saw no opening): collect what is not frozen yet (a
  pause the size of what was added, not of the heap), then freeze the rest;
- whenever as many streams have closed since the last reclaim as half the streams open then (and
  at least ``freeze_after``): unfreeze, collect everything once (the one full-heap pause, paid
  after churn instead of every few seconds of traffic), freeze the survivors.

The frozen garbage is thus bounded by half the peak's cycles, whatever the churn. A thread
checks the counts every ``period_s``: a collection stops every Python thread anyway, so it makes
no difference which one runs it, and the policy needs no hook in the event loop.
"""
from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from studio.kernel import logs

_log = logs.get("studio.realtime.heap")


class StreamCounts(Protocol):
    """Streams opened and closed since the process started (studio/realtime/streams.py)."""

    @property
    def opened(self) -> int: ...

    @property
    def closed(self) -> int: ...


@dataclass
class HeapPolicy:
    streams: StreamCounts
    freeze_after: int = 500
    period_s: float = 1.0
    freezes: int = 0
    reclaims: int = 0
    longest_pause_s: float = 0.0  # the longest collection this policy itself ran
    _opened_mark: int = 0  # ``opened`` at the last freeze
    _opened_last: int = 0  # ``opened`` at the last check
    _closed_mark: int = 0  # ``closed`` at the last reclaim
    _open_at_reclaim: int = 0  # streams open at the last reclaim (or at start)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> HeapPolicy:
        """Freeze what the process built to serve (modules, the app), then watch the counts."""
        self._freeze()
        self._thread = threading.Thread(target=self._run, name="heap-policy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def step(self) -> str | None:
        """One check: reclaim after churn, freeze after openings, or nothing. Returns what it did."""
        opened, closed = self.streams.opened, self.streams.closed
        open_now = opened - closed
        if closed - self._closed_mark >= max(self.freeze_after, self._open_at_reclaim // 2):
            self._reclaim(closed, open_now)
            return "reclaim"
        fresh, burst_over = opened - self._opened_mark, opened == self._opened_last
        self._opened_last = opened
        # After ``freeze_after`` openings, or once a burst of at least a tenth of that is over: the
        # streams a burst leaves unfrozen would otherwise be walked by every full collection.
        if fresh >= self.freeze_after or (burst_over and fresh >= max(self.freeze_after // 10, 1)):
            self._freeze()
            return "freeze"
        return None

    def snapshot(self) -> dict[str, Any]:
        """For /healthz/realtime. ``frozen_objects`` walks the permanent generation (a few ms at a
        million objects): fine for a health probe, not for a hot path."""
        return {"policy": "freeze", "freeze_after": self.freeze_after, "freezes": self.freezes,
                "reclaims": self.reclaims, "longest_pause_ms": round(self.longest_pause_s * 1000, 1),
                "frozen_objects": gc.get_freeze_count(), "collections": [s["collections"] for s in gc.get_stats()]}

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the policy must never take the gateway down
                _log.exception("heap policy step failed")

    def _freeze(self) -> None:
        opened = self.streams.opened
        started = time.perf_counter()
        gc.collect()  # the garbage not frozen yet: only what was added since the last freeze
        gc.freeze()
        self._paused(time.perf_counter() - started)
        self._opened_mark = opened
        self.freezes += 1

    def _reclaim(self, closed: int, open_now: int) -> None:
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        took = time.perf_counter() - started
        self._paused(took)
        self._closed_mark, self._open_at_reclaim = closed, open_now
        self._opened_mark = self.streams.opened
        self.reclaims += 1
        _log.info("heap reclaimed after churn", extra={"fields": {"open_streams": open_now, "pause_ms": round(took * 1000)}})

    def _paused(self, seconds: float) -> None:
        self.longest_pause_s = max(self.longest_pause_s, seconds)


@dataclass
class NoPolicy:
    """The interpreter's default thresholds (``STUDIO_GATEWAY_GC=default``): reported, not changed."""

    def snapshot(self) -> dict[str, Any]:
        return {"policy": "default", "frozen_objects": gc.get_freeze_count(),
                "collections": [s["collections"] for s in gc.get_stats()]}

    def stop(self) -> None:
        return None

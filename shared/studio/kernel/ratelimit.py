"""Per-tenant token buckets, per instance.

A deliberate choice (docs/decisions/0004-rate-limit.md): a store round trip per request
would cost more than the protection is worth; the effective limit is per instance.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from studio.kernel import errors


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(1, per_minute // 6))
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        if self.rate <= 0:
            return
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                retry = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise errors.StudioError(
                    errors.RATE_LIMITED, f"limit is {round(self.rate * 60)} requests/minute",
                    headers={"Retry-After": str(retry)}, retry_after_s=retry,
                )
            self._buckets[key] = (tokens - 1.0, now)

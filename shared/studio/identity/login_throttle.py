"""Failed sign-ins, counted per account and per client IP, in the document store.

Unlike the request rate limit (per instance, decision 0004) these counters live in the store:
a password guesser must not gain a fresh allowance from every instance it lands on. The cost is
bounded by the limits themselves: a failure writes one small document per key, and once a key is
over its limit further attempts are refused on a read, before the (deliberately slow) password
hash is even computed, so a flood writes nothing.

Fixed windows: the first failure opens a window of ``window_s``; ``max`` failures within it
close the key until the window ends (``Retry-After``). A success clears the account's counter,
never the IP's (an attacker's own account must not reset the address they guess from). Unknown
addresses are counted like real ones: the answer never tells which accounts exist.
"""
from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from studio.identity import errors as identity_errors
from studio.kernel import errors
from studio.kernel.client_ip import ip_bucket
from studio.ports.store import Document, DocumentStore, Transaction

COLLECTION = "login_throttle"


@dataclass(frozen=True)
class ThrottleLimits:
    per_account: int
    per_ip: int
    window_s: float


class LoginThrottle:
    def __init__(self, store: DocumentStore, limits: ThrottleLimits,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._limits = limits
        self._clock = clock

    def check(self, account_key: str, ip: str) -> None:
        """Refuse (429 LOGIN_THROTTLED, Retry-After) while either counter is over its limit."""
        now = self._clock()
        waits = [self._wait(self._store.get(path), limit, now) for path, limit in self._keys(account_key, ip)]
        wait = max(waits)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise errors.StudioError(identity_errors.LOGIN_THROTTLED, f"too many failed sign-ins; retry in {retry} s",
                                     headers={"Retry-After": str(retry)}, retry_after_s=retry)

    def failed(self, account_key: str, ip: str) -> None:
        now = self._clock()

        def count(tx: Transaction) -> None:
            for path, _ in self._keys(account_key, ip):
                doc = tx.get(path)
                if doc is None or now >= doc.data["window_start"] + self._limits.window_s:
                    data = {"count": 1, "window_start": now}
                else:
                    data = {"count": doc.data["count"] + 1, "window_start": doc.data["window_start"]}
                tx.put(path, {**data, "expire_at_ts": data["window_start"] + self._limits.window_s})

        self._store.run_transaction(count)

    def succeeded(self, account_key: str) -> None:
        path = _path("a", account_key)
        if self._store.get(path) is not None:  # most sign-ins follow no failure: no write then
            self._store.delete(path)

    def _keys(self, account_key: str, ip: str) -> list[tuple[str, int]]:
        return [(_path("a", account_key), self._limits.per_account),
                (_path("i", hashlib.sha256(ip_bucket(ip).encode()).hexdigest()), self._limits.per_ip)]

    def _wait(self, doc: Document | None, limit: int, now: float) -> float:
        if doc is None or doc.data["count"] < limit:
            return 0.0
        return max(0.0, float(doc.data["window_start"]) + self._limits.window_s - now)


def _path(kind: str, digest: str) -> str:
    return f"{COLLECTION}/{kind}_{digest[:48]}"

"""Idempotency-Key on POST (AIP-155): replay, reuse and in-flight detection, kept 24 h.

One record per (scope, key) in the document store. ``begin`` claims it for one attempt with a
short lease; the handler's store transactions append their results to it in their own commits
(``kernel.tx_journal``); ``complete`` stores the response. A crash leaves the record in flight:
once the lease lapses a retry takes it over, replays what the dead attempt committed and does
the rest, so the effect happens once and the retry gets the answer (docs/decisions/0020).
"""
from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.kernel.tx_journal import Journal, journaling
from studio.ports.store import DocumentStore, Transaction

KEEP_S = 24 * 3600
# How long an attempt holds its key after its claim or its last store transaction. Short: a
# crashed attempt blocks its retries this long at most. Safe: a slow attempt superseded by a
# retry cannot commit anything more (each journal step checks who holds the key).
LEASE_S = 10.0
_MAX_KEY = 255


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: str


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _record_path(scope: str, key: str) -> str:
    digest = hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()
    return f"idempotency/{digest}"


class IdempotencyKeys:
    def __init__(self, store: DocumentStore, clock: Any = time.time) -> None:
        self._store = store
        self._clock = clock

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredResponse | Journal:
        """A StoredResponse: replay it. A Journal: go ahead, this attempt now holds the key; run
        the handler inside ``tx_journal.journaling(journal)`` and end with ``complete``."""
        if not key or len(key) > _MAX_KEY:
            raise errors.StudioError(errors.BAD_REQUEST, f"Idempotency-Key must be 1-{_MAX_KEY} characters")
        path = _record_path(scope, key)
        attempt = secrets.token_hex(8)
        now = self._clock()

        def claim(tx: Transaction) -> StoredResponse | None:
            doc = tx.get(path)
            journal: list[Any] = []
            if doc is not None and doc.data["expires_at"] > now:
                data = doc.data
                if data["fingerprint"] != fingerprint:
                    raise errors.StudioError(errors.IDEMPOTENCY_KEY_REUSED)
                if data["state"] == "done":
                    r = data["response"]
                    return StoredResponse(r["status"], r["headers"], r["body"])
                lease_until = float(data.get("lease_until", data["started_at"] + 120))  # 120: records before leases
                if lease_until > now:
                    wait = max(1, math.ceil(lease_until - now))
                    raise errors.StudioError(errors.IDEMPOTENCY_KEY_IN_USE, headers={"Retry-After": str(wait)})
                journal = list(data.get("journal") or [])  # its holder died (or stalled): take over, keep its effects
            tx.put(path, {"fingerprint": fingerprint, "state": "in_flight", "attempt": attempt, "started_at": now,
                          "lease_until": now + LEASE_S, "journal": journal,
                          "expires_at": now + KEEP_S, "expire_at_ts": now + KEEP_S})
            return None

        with journaling(None):  # a command_id held inside a keyed request is bookkeeping, not its effect
            stored = self._store.run_transaction(claim)
        if stored is not None:
            return stored
        return Journal(path, attempt, lambda: self._clock() + LEASE_S)

    def complete(self, journal: Journal, response: StoredResponse) -> None:
        """Store the response for replays; a 5xx releases the key instead, so a retry may run at
        once (replaying whatever this attempt committed). A superseded attempt changes nothing."""

        def finish(tx: Transaction) -> None:
            doc = tx.get(journal.path)
            if doc is None or doc.data.get("attempt") != journal.attempt or doc.data.get("state") != "in_flight":
                return
            if response.status < 500:
                tx.put(journal.path, dict(doc.data, state="done", journal=[], response={
                    "status": response.status, "headers": response.headers, "body": response.body}))
            elif doc.data.get("journal"):
                tx.put(journal.path, dict(doc.data, lease_until=0))
            else:
                tx.delete(journal.path)

        with journaling(None):
            self._store.run_transaction(finish)

"""Idempotency-Key on POST (AIP-155): replay, reuse and in-flight detection, kept 24 h.

One record per (scope, key) in the document store. The record is created in flight,
then completed with the response; a 5xx deletes it so the client may retry.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.ports.store import DocumentStore, Transaction

KEEP_S = 24 * 3600
ABANDONED_AFTER_S = 120  # longer than any function timeout: an in-flight record this old died with its instance
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

    def begin(self, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
        """None: go ahead (the key is now held). A StoredResponse: replay it."""
        if not key or len(key) > _MAX_KEY:
            raise errors.StudioError(errors.BAD_REQUEST, f"Idempotency-Key must be 1-{_MAX_KEY} characters")
        path = _record_path(scope, key)
        now = self._clock()

        def claim(tx: Transaction) -> StoredResponse | None:
            doc = tx.get(path)
            if doc is not None and doc.data["expires_at"] > now:
                data = doc.data
                if data["fingerprint"] != fingerprint:
                    raise errors.StudioError(errors.IDEMPOTENCY_KEY_REUSED)
                if data["state"] == "done":
                    r = data["response"]
                    return StoredResponse(r["status"], r["headers"], r["body"])
                if now - data["started_at"] < ABANDONED_AFTER_S:
                    raise errors.StudioError(errors.IDEMPOTENCY_KEY_IN_USE, headers={"Retry-After": "1"})
            tx.put(path, {"fingerprint": fingerprint, "state": "in_flight", "started_at": now,
                          "expires_at": now + KEEP_S, "expire_at_ts": now + KEEP_S})
            return None

        return self._store.run_transaction(claim)

    def complete(self, scope: str, key: str, response: StoredResponse) -> None:
        path = _record_path(scope, key)
        if response.status >= 500:
            self._store.delete(path)
            return
        doc = self._store.get(path)
        if doc is None:
            return
        data = dict(doc.data, state="done", response={
            "status": response.status, "headers": response.headers, "body": response.body})
        self._store.put(path, data)

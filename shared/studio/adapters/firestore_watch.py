"""Collection listeners on Firestore: ``on_snapshot`` turned into our ``Change`` stream.

Firestore has no change log, only snapshots of a query's result: each snapshot lists what changed
since the previous one (removals first, then additions and modifications, by document name).
This listener:

* waits for the initial snapshot before ``watch()`` returns, then skips it (the state when the
  listener started: later writes are delivered, earlier ones not), or, given ``after`` (a
  ``seq`` from an earlier Change), replays the documents updated after it as puts: deletes that
  happened while no listener ran are not recoverable from Firestore;
* orders each snapshot's changes by commit time: a put by the document's update time, a delete
  by the snapshot's read time (its commit time is not sent);
* numbers them with ``seq`` = that time in microseconds since the epoch, forced to increase per
  listener, so ``after`` can resume a listener;
* reports a delete with ``rev`` = the last seen ``_rev`` + 1, as the SQLite feed does.

Firestore coalesces: a document written several times between two snapshots shows up once, with
its latest state. In practice each commit gets its own snapshot, but a listener guarantees the
latest state of every document, not every intermediate revision. Callbacks run on the client's
listener thread; one that raises is logged and does not stop the listener. A gRPC channel carries
at most 100 listeners: keep one per collection and fan out in-process.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.adapters.firestore_tx import REV, rfc3339, to_document
from studio.kernel import errors, logs
from studio.ports.store import Change

_log = logs.get("studio.store.watch")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(ts: datetime) -> int:
    return (ts - _EPOCH) // timedelta(microseconds=1)


class FirestoreWatch:
    def __init__(self, client: Any, collection: str, callback: Callable[[Change], None],
                 after: int | None, *, ready_timeout_s: float = 10.0) -> None:
        self._callback = callback
        self._collection = collection
        self._after = after
        self._last = after or 0
        self._initial = True
        self._closed = False
        self._ready = threading.Event()
        self._handle = client.collection(collection).on_snapshot(self._on_snapshot)
        # on_snapshot returns before the listen target is current: wait for the initial snapshot,
        # or writes made right after watch() returns would hide in it and never be delivered.
        if not self._ready.wait(ready_timeout_s):
            self.close()
            raise errors.Unavailable(f"no initial snapshot for {collection} within {ready_timeout_s}s")

    def close(self) -> None:
        """No delivery starts after this returns (one in flight may finish). The gRPC stream is
        stopped on a helper thread: the client joins its listener thread, which may be inside a
        callback waiting for a lock our caller holds (the realtime feed closes a chunk watch under
        its own lock), and a callback may close its own watch."""
        self._closed = True
        threading.Thread(target=self._handle.unsubscribe, name="firestore-unwatch", daemon=True).start()

    def _on_snapshot(self, docs: list[Any], changes: list[Any], read_time: datetime) -> None:
        if self._initial:
            self._initial = False
            self._ready.set()
            if self._after is None:
                return
            changes = [c for c in changes if micros(c.document.update_time) > self._after]
        events = sorted((self._change(c, read_time) for c in changes), key=lambda c: (c.seq, c.path))
        for event in events:  # one listener thread: no lock needed, and none held in callbacks
            if self._closed:
                return
            seq = max(event.seq, self._last + 1)
            self._last = seq
            try:
                self._callback(Change(seq, event.path, event.op, event.rev, event.data, event.time))
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the listener
                _log.exception("change listener failed", extra={"fields": {"collection": self._collection}})

    @staticmethod
    def _change(change: Any, read_time: datetime) -> Change:
        snap = change.document
        path = snap.reference.path
        if change.type.name == "REMOVED":
            last = (snap.to_dict() or {}).get(REV, 1)
            return Change(micros(read_time), path, "delete", int(last) + 1, None, rfc3339(read_time))
        doc = to_document(path, snap)
        data, rev = (doc.data, doc.rev) if doc is not None else (None, 0)  # added/modified always exist
        return Change(micros(snap.update_time), path, "put", rev, data, rfc3339(snap.update_time))

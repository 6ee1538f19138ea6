"""Change-feed listeners for the SQLite store: the embedded twin of Firestore's on_snapshot.

One thread per store serves every listener; it follows the ``changes`` table by ``seq``
(waking at once for writes in this process, polling for writes from other processes)
and hands each listener the changes to documents directly in its collection, in order.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.kernel import logs
from studio.kernel.paths import check_collection_path
from studio.ports.store import Change

_log = logs.get("studio.store.watch")


@dataclass
class _Listener:
    collection: str
    callback: Callable[[Change], None]
    position: int
    closed: bool = False
    failures: int = field(default=0)


class SqliteWatch:
    def __init__(self, hub: SqliteWatchHub, listener: _Listener) -> None:
        self._hub = hub
        self._listener = listener

    def close(self) -> None:
        self._listener.closed = True
        self._hub.remove(self._listener)


class SqliteWatchHub:
    def __init__(self, store: Any, poll_s: float = 0.05) -> None:
        self._store = store
        self._poll_s = poll_s
        self._listeners: list[_Listener] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, collection: str, callback: Callable[[Change], None], after: int | None) -> SqliteWatch:
        listener = _Listener(check_collection_path(collection), callback,
                             self._store.latest_seq() if after is None else after)
        with self._lock:
            self._listeners.append(listener)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sqlite-watch", daemon=True)
                self._thread.start()
        return SqliteWatch(self, listener)

    def remove(self, listener: _Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _run(self) -> None:
        while True:
            with self._lock:
                listeners = list(self._listeners)
            if not listeners:
                return
            start = min(lst.position for lst in listeners)
            batch = self._store.changes("", start, 1000)
            for change in batch:
                parent = change.path.rsplit("/", 1)[0]
                for lst in listeners:
                    if lst.closed or change.seq <= lst.position:
                        continue
                    lst.position = change.seq  # every listener moves past every change it was shown
                    if parent == lst.collection:
                        self._deliver(lst, change)
            if len(batch) < 1000:
                self._store.wait_for_change(batch[-1].seq if batch else start, self._poll_s)

    def _deliver(self, listener: _Listener, change: Change) -> None:
        try:
            listener.callback(change)
        except Exception:  # noqa: BLE001 - a listener's bug must not stop the feed for the others
            listener.failures += 1
            _log.exception("change listener failed", extra={"fields": {"collection": listener.collection}})

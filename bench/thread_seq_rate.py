"""Sustained messages per second into ONE thread with today's per-thread counter (chat/messages.py:
the counter document is read and bumped in the message's own transaction), per adapter: SQLite,
and the Firestore emulator where it is installed. One writer, then 4 concurrent writers (what a
live event's chat looks like: many senders, one thread). docs/decisions/0073 reads these."""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import Result, heading

DURATION_S = 3.0
TENANT, ENV, THREAD = "t_bench", "dev", "th_hot"


def _prepare(store: Any) -> None:
    from studio.chat import paths

    store.put(paths.thread(TENANT, ENV, THREAD), {"epoch": 1, "title": "hot", "deleted": False})


def _rate(store: Any, writers: int) -> tuple[float, int]:
    """Messages/s over DURATION_S with ``writers`` threads posting, and how many posts failed."""
    from studio.chat.messages import MessageService
    from studio.kernel import errors

    service = MessageService(store)
    stop = time.monotonic() + DURATION_S
    counts = [0] * writers
    failures = [0] * writers

    def post(i: int) -> None:
        while time.monotonic() < stop:
            try:
                service.post_user(TENANT, ENV, THREAD, f"u{i}", "hello", None, "agent")
                counts[i] += 1
            except (errors.StudioError, Exception):  # noqa: BLE001 - contention reported as failures
                failures[i] += 1

    threads = [threading.Thread(target=post, args=(i,)) for i in range(writers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started), sum(failures)


def _check_exact(store: Any) -> None:
    """Every seq 1..n exactly once: the exact-resume guarantee held under contention."""
    from studio.chat import paths
    from studio.ports.store import Query, iter_all

    seqs = sorted(int(d.data["seq"]) for d in iter_all(store, Query(paths.messages(TENANT, ENV, THREAD))))
    assert seqs == list(range(1, len(seqs) + 1)), "a seq was skipped or duplicated"


def _adapter(name: str, store: Any) -> list[Result]:
    _prepare(store)
    out = []
    for writers in (1, 4):
        rate, failed = _rate(store, writers)
        print(f"  {name}: {writers} writer(s) -> {rate:,.0f} messages/s into one thread ({failed} failed)", flush=True)
        out.append(Result("thread_seq_rate", f"{name}: {writers} writer(s), messages/s into one thread", rate,
                          "msg/s", goal=None, extra={"failed": failed, "writers": writers}))
    _check_exact(store)
    return out


def run(verbose: bool = False) -> list[Result]:
    from studio.adapters.sqlite_store import SqliteStore

    heading("one hot thread: sustained messages/s with the per-thread counter")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-seq-") as tmp:
        results += _adapter("sqlite", SqliteStore(Path(tmp) / "store.db"))
    from bench import gcp_emulators
    from studio.adapters.firestore_store import FirestoreStore

    with gcp_emulators.running(("firestore",)) as emulators:
        if emulators.firestore is None:
            print(f"  firestore emulator SKIPPED: {emulators.skipped.get('firestore')}")
        else:
            store = FirestoreStore("bench-seq", client=emulators.firestore.client("bench-seq"))
            results += _adapter("firestore emulator", store)
    return results


if __name__ == "__main__":
    for r in run(verbose=True):
        print(r.to_json())

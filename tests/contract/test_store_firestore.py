"""The store contract against the Firestore adapter on Google's Firestore emulator.

Skipped, with the reason printed, where the emulator or Java is missing. Only the global change
feed (``changes``/``wait_for_change``) is skipped here: Firestore has none, ``watch`` is the feed.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from studio.adapters.firestore_store import FirestoreStore
from studio.kernel import errors
from studio.ports.store import OutboxMessage
from tests.contract.journal_contract import JournalContract
from tests.contract.seq_race_contract import SeqRaceContract
from tests.contract.store_contract import StoreContract, WatchContract
from tests.support.firestore_emulator import FirestoreEmulator, emulator_session

pytestmark = pytest.mark.emulator
PROJECT = "demo-store-contract"
NO_FEED = "Firestore has no global change log: watch() is the feed"


@pytest.fixture(scope="session")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.fixture(scope="module")
def firestore_client(firestore_emulator: FirestoreEmulator) -> Iterator[Any]:
    client = firestore_emulator.client(PROJECT)
    yield client
    client.close()


@pytest.fixture()
def store(firestore_emulator: FirestoreEmulator, firestore_client: Any) -> FirestoreStore:
    firestore_emulator.wipe(PROJECT)
    return FirestoreStore(PROJECT, client=firestore_client)


@pytest.fixture()
def second_store(store: FirestoreStore, firestore_emulator: FirestoreEmulator) -> Iterator[FirestoreStore]:
    """Another instance with its own client, as a second function instance would have."""
    client = firestore_emulator.client(PROJECT)
    yield FirestoreStore(PROJECT, client=client)
    client.close()


class TestFirestoreStore(StoreContract, WatchContract, SeqRaceContract, JournalContract):
    """Not FeedContract: Firestore has no global change log (see test below); watch() is its feed."""

    def check_attempts(self, attempts: int) -> None:
        # Optimistic: B commits while A is open, so A's first attempt must have been retried.
        assert attempts == 2


# -- Firestore-specific behaviour the contract does not pin down ------------------------------


def test_the_global_feed_says_what_to_use_instead(store: FirestoreStore) -> None:
    with pytest.raises(NotImplementedError, match="watch"):
        store.changes("", 0)
    with pytest.raises(NotImplementedError, match="watch"):
        store.wait_for_change(0, 0.1)


def test_revision_lives_in_the_document_and_times_are_firestores(store: FirestoreStore,
                                                                  firestore_client: Any) -> None:
    first = store.create("things/a", {"n": 1, "drop": True})
    second = store.put("things/a", {"n": 2}, expected_rev=1)
    raw = firestore_client.document("things/a").get().to_dict()
    assert raw == {"n": 2, "_rev": 2}  # a full replacement: the dropped field is gone
    assert second.create_time == first.create_time and second.update_time > first.update_time
    assert store.get("things/a") == second
    with pytest.raises(errors.StudioError):
        store.put("things/b", {"_rev": 7})


def test_expire_at_ts_is_mirrored_as_the_timestamp_ttl_needs(store: FirestoreStore, firestore_client: Any) -> None:
    store.put("idempotency/k", {"state": "done", "expire_at_ts": 1_900_000_000.5})
    raw = firestore_client.document("idempotency/k").get().to_dict()
    assert raw["_expire_at"] == datetime.fromtimestamp(1_900_000_000.5, UTC)
    assert store.get("idempotency/k").data == {"state": "done", "expire_at_ts": 1_900_000_000.5}
    store.put("idempotency/k", {"state": "kept"})
    assert "_expire_at" not in firestore_client.document("idempotency/k").get().to_dict()


def test_a_write_between_read_and_commit_is_caught_by_the_update_time_precondition(
        store: FirestoreStore, firestore_client: Any) -> None:
    store.put("race/r", {"n": 0})
    interfered = threading.Event()
    real_read = store.read

    def read_then_interfere(path: str) -> Any:
        snap = real_read(path)
        if not interfered.is_set():  # someone else writes right after our read
            interfered.set()
            firestore_client.document(path).update({"n": 100, "_rev": 2})
        return snap

    store.read = read_then_interfere  # type: ignore[method-assign]
    with pytest.raises(errors.RevisionConflict) as conflict:
        store.put("race/r", {"n": 1}, expected_rev=1)
    assert conflict.value.current_rev == 2 and store.get("race/r").data == {"n": 100}
    assert store.put("race/r", {"n": 3}).rev == 3  # blind put: re-read, then +1


def test_reads_after_writes_in_a_transaction(store: FirestoreStore) -> None:
    def fn(tx: Any) -> int:
        tx.put("rw/a", {"v": 1})
        tx.put("rw/a", {"v": 2})  # Firestore forbids reads after writes; the adapter buffers
        doc = tx.get("rw/a")
        tx.emit(OutboxMessage("m_rw", "t", b"x"))
        return int(doc.rev)

    assert store.run_transaction(fn) == 2
    assert store.get("rw/a").data == {"v": 2} and store.get("rw/a").rev == 2
    assert [m.id for m in store.outbox_pending()] == ["m_rw"]


def test_the_context_manager_transaction_commits_once(store: FirestoreStore, firestore_client: Any) -> None:
    with store.transaction() as tx:
        tx.create("cm/a", {"x": 1})
    with pytest.raises(errors.AlreadyExists), store.transaction() as tx:
        tx.create("cm/a", {"x": 2})
    with pytest.raises(errors.Unavailable), store.transaction() as tx:  # no re-run: refuses instead
        tx.put("cm/a", {"x": 3})
        firestore_client.document("cm/a").update({"x": 9})
    assert store.get("cm/a").data == {"x": 9}


def test_a_changed_read_only_document_reruns_the_transaction(store: FirestoreStore,
                                                             firestore_client: Any) -> None:
    store.put("guard/g", {"open": True})
    runs: list[int] = []

    def fn(tx: Any) -> None:
        runs.append(1)
        guard = tx.get("guard/g")  # only read: validated in a Firestore transaction at commit
        if len(runs) == 1:
            firestore_client.document("guard/g").update({"open": False})
        if guard.data["open"]:
            tx.put("guarded/x", {"ok": True})

    store.run_transaction(fn)
    assert len(runs) == 2 and store.get("guarded/x") is None


def test_watch_resumes_after_a_seq(store: FirestoreStore) -> None:
    seen: list[Any] = []
    watch = store.watch("res/r/items", seen.append)
    try:
        store.put("res/r/items/a", {"v": 1})
        _wait(lambda: len(seen) == 1)
    finally:
        watch.close()
    store.put("res/r/items/b", {"v": 2})  # while nobody listens
    again: list[Any] = []
    watch = store.watch("res/r/items", again.append, after=seen[0].seq)
    try:
        _wait(lambda: len(again) == 1)
        time.sleep(0.2)
    finally:
        watch.close()
    assert [(c.path, c.op, c.rev) for c in again] == [("res/r/items/b", "put", 1)]
    assert again[0].seq > seen[0].seq


def test_a_failing_callback_is_logged_and_a_callback_may_close_its_own_watch(store: FirestoreStore) -> None:
    seen: list[str] = []
    holder: dict[str, Any] = {}

    def callback(change: Any) -> None:
        seen.append(change.path)
        if len(seen) == 1:
            raise RuntimeError("listener bug")  # logged; the listener goes on
        holder["watch"].close()  # from the listener's own thread: must not deadlock

    holder["watch"] = store.watch("cb/c/items", callback)
    store.put("cb/c/items/a", {})
    _wait(lambda: len(seen) == 1)
    store.put("cb/c/items/b", {})
    _wait(lambda: len(seen) == 2)
    store.put("cb/c/items/c", {})
    time.sleep(0.3)
    assert seen == ["cb/c/items/a", "cb/c/items/b"]


def _wait(cond: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cond()

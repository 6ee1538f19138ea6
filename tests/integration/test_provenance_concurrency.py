"""Concurrent appends leave one chain, no fork (issue 10, item 5), on both store adapters.

Twenty writers append at once through two store instances over the same data (two function
instances): every append reads the head and writes it forward in one transaction, so the ledger
ends with seqs 1..20, each entry linked to the one before it, the head on the last, and ``verify`` ok.
The same events redelivered concurrently still append once each (the dedupe marker commits with the
append). On SQLite (real file) and on Google's Firestore emulator (optimistic transactions).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.adapters.sqlite_store import SqliteStore
from studio.kernel import dedupe
from studio.ports.store import Query
from studio.provenance import paths
from studio.provenance.chain_hash import GENESIS
from studio.provenance.entries import list_entries
from studio.provenance.ledger import append_entry, append_in
from studio.provenance.lineage import lineage
from studio.provenance.models import EntryQuery, ProvenanceRecord
from studio.provenance.verify import verify_chain
from tests.support.firestore_emulator import FirestoreEmulator, emulator_session

TENANT, ENV = "t_race", "dev"
WRITERS = 20


def _record(i: int) -> ProvenanceRecord:
    return ProvenanceRecord.model_validate({
        "action": "derive", "actor": {"type": "tool", "id": f"worker-{i % 4}"},
        "subject": {"kind": "asset", "id": "as_race"}, "inputs": [{"kind": "asset", "id": "as_race"}],
        "outputs": [{"kind": "artifact", "id": f"ar_{i:02d}"}], "params": {"i": i}})


def _concurrently(stores: list[Any], job: Any, count: int = WRITERS) -> list[BaseException]:
    barrier = threading.Barrier(count)
    failures: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()  # all start together: the head is contended from the first read
        try:
            job(stores[i % len(stores)], i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return failures


def _assert_one_chain(store: Any, count: int = WRITERS) -> None:
    docs = store.query(Query(paths.entries(TENANT, ENV), order_by=[("seq", "asc")], limit=500)).docs
    assert [d.data["seq"] for d in docs] == list(range(1, count + 1))  # no gap, no second seq N
    prev = GENESIS
    for doc in docs:
        assert doc.data["prev_hash"] == prev  # each links to the one before: no fork
        prev = doc.data["hash"]
    assert sorted(d.data["outputs"][0]["id"] for d in docs) == sorted(f"ar_{i:02d}" for i in range(count))
    head = store.get(paths.head(TENANT, ENV))
    assert (head.data["seq"], head.data["hash"]) == (count, prev)
    assert verify_chain(store, TENANT, ENV) == {"ok": True, "length": count, "head": prev, "first_bad": None,
                                                "reason": None}


class RaceContract:
    def test_twenty_concurrent_appends_leave_one_chain(self, stores: list[Any]) -> None:
        failures = _concurrently(stores, lambda store, i: append_entry(store, TENANT, ENV, _record(i)))
        assert failures == []
        _assert_one_chain(stores[0])
        reported: list[int] = []
        assert verify_chain(stores[1], TENANT, ENV, reported.append, every=8)["ok"]
        assert reported == [8, 16]  # a long verification's progress, as the route sends it to live clients

    def test_concurrent_redeliveries_append_each_event_once(self, stores: list[Any]) -> None:
        def deliver(store: Any, i: int) -> None:  # the writer's effect: marker and append in one transaction
            event = i % 5
            dedupe.apply_once(store, "provenance_writer", f"ev_{event}",
                              lambda tx: append_in(tx, TENANT, ENV, _record(event), source_event_id=f"ev_{event}"))

        assert _concurrently(stores, deliver) == []
        _assert_one_chain(stores[0], count=5)


    def test_reads_and_tamper_detection_on_this_store(self, stores: list[Any]) -> None:
        """The read side on this adapter too: filters and order, lineage, and a tampered entry named."""
        assert _concurrently(stores, lambda store, i: append_entry(store, TENANT, ENV, _record(i)), count=6) == []
        store = stores[1]
        page = list_entries(store, TENANT, ENV, EntryQuery(actor="worker-1", action="derive", limit=10))
        assert sorted(e["outputs"][0]["id"] for e in page["entries"]) == ["ar_01", "ar_05"]
        times = [e["time"] for e in list_entries(store, TENANT, ENV, EntryQuery(limit=10))["entries"]]
        assert times == sorted(times, reverse=True) and len(times) == 6
        graph = lineage(store, TENANT, ENV, "as_race", "down")
        assert {n["id"] for n in graph["nodes"]} == {"as_race", *(f"ar_{i:02d}" for i in range(6))}
        doc = store.get(paths.entry(TENANT, ENV, 4))
        store.put(doc.path, {**doc.data, "params": {"i": 99}})
        assert verify_chain(stores[0], TENANT, ENV) | {"head": None} == {
            "ok": False, "length": 3, "head": None, "first_bad": 4, "reason": "hash_mismatch"}


class TestSqlite(RaceContract):
    @pytest.fixture()
    def stores(self, tmp_path: Path) -> list[Any]:
        return [SqliteStore(tmp_path / "store.db"), SqliteStore(tmp_path / "store.db")]


PROJECT = "demo-provenance-race"


@pytest.fixture(scope="session")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.mark.emulator
class TestFirestore(RaceContract):
    @pytest.fixture()
    def stores(self, firestore_emulator: FirestoreEmulator) -> Iterator[list[Any]]:
        from studio.adapters.firestore_store import FirestoreStore

        firestore_emulator.wipe(PROJECT)
        clients = [firestore_emulator.client(PROJECT) for _ in range(2)]
        yield [FirestoreStore(PROJECT, client=c) for c in clients]
        for c in clients:
            c.close()

"""The store contract against the embedded SQLite adapter, plus durability across reopen."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.adapters.sqlite_store import SqliteStore
from studio.ports.store import Filter, Query
from tests.contract.journal_contract import JournalContract
from tests.contract.seq_race_contract import SeqRaceContract
from tests.contract.store_contract import FeedContract, StoreContract, WatchContract


@pytest.fixture()
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "store.db")


@pytest.fixture()
def second_store(store: SqliteStore, tmp_path: Path) -> SqliteStore:
    """Another instance over the same file, as a second function instance would open it."""
    return SqliteStore(tmp_path / "store.db")


class TestSqliteStore(StoreContract, FeedContract, WatchContract, SeqRaceContract, JournalContract):
    pass


def test_a_second_handle_sees_committed_writes(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "s.db")
    first.put("a/b", {"x": 1})
    first.close()
    again = SqliteStore(tmp_path / "s.db")
    assert again.get("a/b").data == {"x": 1}
    assert [c.path for c in again.changes("a")] == ["a/b"]


def test_documents_stored_with_nan_before_it_was_refused_do_not_poison_queries(tmp_path: Path) -> None:
    """An older build wrote NaN as the bare token SQLite's JSON functions refuse: every query over
    the collection failed ("malformed JSON"). The first such query repairs those rows (NaN -> null)."""
    store = SqliteStore(tmp_path / "s.db")
    store.put("events/good", {"n": 1, "v": 1.5})
    store.put("events/bad", {"n": 2, "v": 0})
    conn = sqlite3.connect(tmp_path / "s.db")
    with conn:  # what the old adapter wrote: json.dumps's default allow_nan=True
        conn.execute("UPDATE docs SET data = ? WHERE path = 'events/bad'",
                     ('{"n":2,"v":NaN,"w":[Infinity,-Infinity]}',))
    conn.close()
    page = store.query(Query("events", [Filter("n", ">", 0)], [("n", "asc")]))
    assert [d.data for d in page.docs] == [{"n": 1, "v": 1.5}, {"n": 2, "v": None, "w": [None, None]}]
    assert store.get("events/bad").rev == 1  # the same document, spelt as JSON: not a new revision
    assert store.run_transaction(lambda tx: [d.doc_id for d in tx.query(Query("events", order_by=[("n", "asc")])).docs]) \
        == ["good", "bad"]

"""The store contract against the embedded SQLite adapter, plus durability across reopen."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.adapters.sqlite_store import SqliteStore
from tests.contract.seq_race_contract import SeqRaceContract
from tests.contract.store_contract import FeedContract, StoreContract, WatchContract


@pytest.fixture()
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "store.db")


@pytest.fixture()
def second_store(store: SqliteStore, tmp_path: Path) -> SqliteStore:
    """Another instance over the same file, as a second function instance would open it."""
    return SqliteStore(tmp_path / "store.db")


class TestSqliteStore(StoreContract, FeedContract, WatchContract, SeqRaceContract):
    pass


def test_a_second_handle_sees_committed_writes(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "s.db")
    first.put("a/b", {"x": 1})
    first.close()
    again = SqliteStore(tmp_path / "s.db")
    assert again.get("a/b").data == {"x": 1}
    assert [c.path for c in again.changes("a")] == ["a/b"]

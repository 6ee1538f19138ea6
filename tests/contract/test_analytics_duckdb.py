"""DuckDbAnalytics against the analytics store contract, plus the file surviving a reopen."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.adapters.duckdb_analytics import DuckDbAnalytics, to_duckdb_sql
from tests.contract.analytics_contract import AnalyticsStoreContract, _row


class TestDuckDbAnalytics(AnalyticsStoreContract):
    @pytest.fixture
    def analytics_store(self, tmp_path: Path) -> DuckDbAnalytics:
        return DuckDbAnalytics(tmp_path / "analytics.duckdb")


def test_rows_survive_a_reopen(tmp_path: Path) -> None:
    first = DuckDbAnalytics(tmp_path / "a.duckdb")
    first.insert([_row("e1")])
    first.close()
    second = DuckDbAnalytics(tmp_path / "a.duckdb")
    second.insert([_row("e1"), _row("e2")])  # the primary key outlives the process
    assert second.query("SELECT COUNT(*) AS n FROM events", {}) == [{"n": 2}]


def test_parameter_translation_skips_literals() -> None:
    assert to_duckdb_sql("SELECT '@x', a FROM t WHERE b = @y AND c = 'it''s @z'") == (
        "SELECT '@x', a FROM t WHERE b = $y AND c = 'it''s @z'", {"y"})

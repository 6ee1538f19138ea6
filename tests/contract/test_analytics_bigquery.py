"""BigQueryAnalytics against the analytics store contract, over the in-process fake of BigQuery's REST API.

BigQuery has no emulator, so the adapter's real requests (insertAll with insertId, jobs.query with NAMED
parameters, polling an incomplete job, paging) run against tests/support/fake_bigquery.py, which
executes the SQL on DuckDB and answers in BigQuery's REST encoding. The same contract the DuckDB adapter
passes holds both to one behaviour. ``TestFakeFidelity`` pins the REST shapes the adapter relies on.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from studio.adapters.bigquery_analytics import BigQueryAnalytics, query_parameter, read_cell
from studio.kernel import errors
from tests.contract.analytics_contract import AnalyticsStoreContract, _row
from tests.support.fake_bigquery import FakeBigQuery


@pytest.fixture
def fake() -> Iterator[FakeBigQuery]:
    server = FakeBigQuery(page_cap=3, slow_jobs=True).start()
    yield server
    server.stop()


def _adapter(fake: FakeBigQuery) -> BigQueryAnalytics:
    return BigQueryAnalytics("studio-fake", "studio_analytics", endpoint=fake.endpoint,
                             credentials_provider=lambda: "token")


class TestBigQueryAnalytics(AnalyticsStoreContract):
    @pytest.fixture
    def analytics_store(self, fake: FakeBigQuery) -> BigQueryAnalytics:
        return _adapter(fake)


def test_redelivered_rows_are_stored_twice_raw_but_read_once(fake: FakeBigQuery) -> None:
    store = _adapter(fake)
    store.insert([_row("e1")])
    store.insert([_row("e1")])
    assert fake.raw_count() == 2  # insertId dedupe is best effort: the view is what makes reads exact
    assert store.query("SELECT COUNT(*) AS n FROM events", {}) == [{"n": 1}]


def test_incomplete_jobs_are_polled_and_pages_followed(fake: FakeBigQuery) -> None:
    store = _adapter(fake)
    store.insert([_row(f"e{i}") for i in range(7)])
    fake.calls.clear()
    assert len(store.query("SELECT event_id FROM events", {})) == 7
    assert fake.calls[0].startswith("POST ") and sum(c.startswith("GET ") for c in fake.calls) == 3


def test_bad_sql_is_a_value_error_and_no_credential_is_unavailable(fake: FakeBigQuery) -> None:
    with pytest.raises(ValueError):
        _adapter(fake).query("SELEC nonsense", {})
    unauthorised = BigQueryAnalytics("p", "d", endpoint=fake.endpoint, credentials_provider=lambda: "")
    unreachable = BigQueryAnalytics("p", "d", endpoint="http://127.0.0.1:9", credentials_provider=lambda: "t")
    for store in (unauthorised, unreachable):  # our credential refused (401), or no answer: an outage, 503
        with pytest.raises(errors.StudioError) as exc:
            store.query("SELECT 1 AS one", {})
        assert exc.value.code is errors.UNAVAILABLE


class TestFakeFidelity:
    """The REST encodings the adapter reads, as Google documents them (jobs.query, getQueryResults)."""

    def test_parameters(self) -> None:
        when = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
        assert query_parameter("t", "x") == {"name": "t", "parameterType": {"type": "STRING"},
                                             "parameterValue": {"value": "x"}}
        assert query_parameter("n", 3)["parameterType"] == {"type": "INT64"}
        assert query_parameter("b", True)["parameterValue"] == {"value": "true"}
        assert query_parameter("w", when)["parameterValue"] == {"value": "2026-01-02 03:04:05.000006+00:00"}
        assert query_parameter("ids", ["a", "b"]) == {
            "name": "ids", "parameterType": {"type": "ARRAY", "arrayType": {"type": "STRING"}},
            "parameterValue": {"arrayValues": [{"value": "a"}, {"value": "b"}]}}

    def test_cells(self) -> None:
        assert read_cell("INTEGER", "42") == 42
        assert read_cell("FLOAT", "2.5") == 2.5
        assert read_cell("BOOLEAN", "false") is False
        assert read_cell("TIMESTAMP", "1.7012016E9") == datetime(2023, 11, 28, 20, 0, 0, tzinfo=UTC)
        assert read_cell("STRING", None) is None

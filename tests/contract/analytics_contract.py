"""Behaviour every AnalyticsStore adapter must share (DuckDB file, BigQuery).

Subclass ``AnalyticsStoreContract`` and provide an ``analytics_store`` fixture that starts empty.
The SQL here is the port's dialect: the common subset of DuckDB and BigQuery Standard SQL.
"""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from studio.ports.analytics import AnalyticsStore

T0 = datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC)


def _row(event_id: str, **kw: object) -> dict[str, object]:
    return {"tenant_id": "t_a", "env": "dev", "site_id": "s1", "event_id": event_id, "type": "pageview",
            "ts": T0, "anonymous_id": "anon1", "url": "https://x.example/", **kw}


class AnalyticsStoreContract:
    def test_round_trip_keeps_types(self, analytics_store: AnalyticsStore) -> None:
        analytics_store.insert([_row("e1", value=2.5, props={"b": 1, "a": "é"}, utm_source="news", name="LCP")])
        rows = analytics_store.query(
            "SELECT event_id, ts, value, props, utm_source, name, user_id FROM events WHERE tenant_id = @t", {"t": "t_a"})
        assert rows == [{"event_id": "e1", "ts": T0, "value": 2.5, "props": json.dumps({"a": "é", "b": 1},
                         separators=(",", ":"), sort_keys=True), "utm_source": "news", "name": "LCP", "user_id": None}]

    def test_insert_is_idempotent_per_event_id(self, analytics_store: AnalyticsStore) -> None:
        analytics_store.insert([_row("e1"), _row("e2")])
        analytics_store.insert([_row("e2"), _row("e3"), _row("e3")])  # a redelivery, and a repeat in one batch
        rows = analytics_store.query("SELECT event_id FROM events WHERE tenant_id = @t ORDER BY event_id", {"t": "t_a"})
        assert [r["event_id"] for r in rows] == ["e1", "e2", "e3"]

    def test_concurrent_redeliveries_store_once(self, analytics_store: AnalyticsStore) -> None:
        batch = [_row(f"c{i}") for i in range(20)]
        threads = [threading.Thread(target=analytics_store.insert, args=(batch,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rows = analytics_store.query("SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM events", {})
        assert rows == [{"n": 20, "d": 20}]

    def test_named_parameters_of_each_type(self, analytics_store: AnalyticsStore) -> None:
        analytics_store.insert([_row("e1", value=1.0), _row("e2", ts=T0 + timedelta(hours=1), value=3.0),
                                _row("e3", tenant_id="t_b", value=7.0)])
        rows = analytics_store.query(
            "SELECT COUNT(*) AS n, SUM(value) AS total FROM events "
            "WHERE tenant_id = @t AND env = @env AND ts >= @since AND value > @low AND event_id IN (SELECT * FROM UNNEST(@ids))",
            {"t": "t_a", "env": "dev", "since": T0, "low": 0.5, "ids": ["e1", "e2", "e3"]})
        assert rows == [{"n": 2, "total": 4.0}]

    def test_an_at_sign_in_a_literal_is_not_a_parameter(self, analytics_store: AnalyticsStore) -> None:
        analytics_store.insert([_row("e1", name="a@b")])
        rows = analytics_store.query("SELECT COUNT(*) AS n FROM events WHERE name = 'a@b' AND tenant_id = @t", {"t": "t_a"})
        assert rows == [{"n": 1}]

    def test_window_functions_for_paths(self, analytics_store: AnalyticsStore) -> None:
        analytics_store.insert([_row("p1", url="/a"), _row("p2", url="/b", ts=T0 + timedelta(seconds=5)),
                                _row("p3", url="/c", ts=T0 + timedelta(seconds=9))])
        rows = analytics_store.query(
            "SELECT url, LEAD(url) OVER (PARTITION BY anonymous_id ORDER BY ts) AS next_url "
            "FROM events WHERE tenant_id = @t ORDER BY ts", {"t": "t_a"})
        assert [(r["url"], r["next_url"]) for r in rows] == [("/a", "/b"), ("/b", "/c"), ("/c", None)]

    def test_many_rows_come_back_whole(self, analytics_store: AnalyticsStore) -> None:
        analytics_store.insert([_row(f"m{i:03d}", value=float(i)) for i in range(25)])
        rows = analytics_store.query("SELECT event_id, value FROM events ORDER BY event_id", {})
        assert [r["value"] for r in rows] == [float(i) for i in range(25)]

    def test_unknown_column_and_missing_id_are_refused(self, analytics_store: AnalyticsStore) -> None:
        with pytest.raises(ValueError):
            analytics_store.insert([_row("e1", colour="red")])
        with pytest.raises(ValueError):
            analytics_store.insert([{"tenant_id": "t_a", "type": "pageview"}])
        assert analytics_store.query("SELECT COUNT(*) AS n FROM events", {}) == [{"n": 0}]

    def test_missing_parameter_is_refused(self, analytics_store: AnalyticsStore) -> None:
        with pytest.raises(ValueError):
            analytics_store.query("SELECT COUNT(*) AS n FROM events WHERE tenant_id = @t", {})

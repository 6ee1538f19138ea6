"""Funnels and paths agree with a brute-force computation on generated events, on both store adapters.

The SQL runs on real DuckDB (the local adapter) and through the BigQuery adapter over its REST fake
(which executes on DuckDB too, but through the adapter's parameter encoding and paging). The
brute force walks each user's raw events in Python, from the definitions in funnels.py and
paths_analysis.py.
"""
from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from studio.adapters.bigquery_analytics import BigQueryAnalytics
from studio.adapters.duckdb_analytics import DuckDbAnalytics
from studio.analytics.funnels import run_funnel, window_seconds
from studio.analytics.paths_analysis import run_paths
from studio.ports.analytics import AnalyticsStore
from tests.support.fake_bigquery import FakeBigQuery

T0 = datetime(2026, 11, 1, tzinfo=UTC)
PAGES = ["/", "/pricing", "/features", "/signup", "/checkout", "/blog"]
SOURCES = ["news", "ads", None]


def generate(seed: int, users: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for u in range(users):
        anon = f"a{u}"
        user_id = f"u{u}" if rng.random() < 0.2 else None
        t = T0 + timedelta(seconds=rng.randrange(0, 5 * 86400))
        session = 0
        for n in range(rng.randrange(1, 12)):
            t += timedelta(seconds=rng.choice([1, 5, 30, 600, 3600, 86400]))
            if rng.random() < 0.15:
                session += 1
            kind = "pageview" if rng.random() < 0.8 else "cta_click"
            page = rng.choice(PAGES)
            rows.append({"tenant_id": "t1", "env": "dev", "site_id": "s1", "event_id": f"e{u}-{n}", "type": kind,
                         "ts": t, "anonymous_id": anon, "user_id": user_id, "session_id": f"{anon}-{session}",
                         "url": page + ("?utm_source=x" if rng.random() < 0.1 else ""),
                         "canonical_url": page if rng.random() < 0.9 else None,
                         "utm_source": rng.choice(SOURCES), "name": "buy" if kind == "cta_click" else None})
    rows.append({**rows[0], "event_id": "other-tenant", "tenant_id": "t2"})  # never counted
    return rows


def _page(row: dict[str, Any]) -> str:
    return row["canonical_url"] or row["url"]


def _matches(step: dict[str, Any], row: dict[str, Any]) -> bool:
    return row["type"] == step["type"] and all(
        (_page(row) if f == "url" else row.get(f)) == step[f] for f in ("url", "page_type", "name") if step.get(f))


def brute_funnel(rows: list[dict[str, Any]], steps: list[dict[str, Any]], window: str,
                 group_by: str | None) -> dict[str, Any]:
    limit = timedelta(seconds=window_seconds(window))
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["tenant_id"] == "t1":
            by_subject.setdefault(r["user_id"] or r["anonymous_id"], []).append(r)
    reached: dict[Any, list[int]] = {}
    durations: dict[Any, list[float]] = {}
    for events in by_subject.values():
        events.sort(key=lambda r: (r["ts"], r["event_id"]))
        entry = next((e for e in events if _matches(steps[0], e)), None)
        if entry is None:
            continue
        group = entry.get(group_by) if group_by else None
        counts = reached.setdefault(group, [0] * len(steps))
        counts[0] += 1
        t = entry["ts"]
        for i, step in enumerate(steps[1:], start=1):
            nxt = next((e for e in events if _matches(step, e) and t < e["ts"] <= entry["ts"] + limit), None)
            if nxt is None:
                break
            counts[i] += 1
            t = nxt["ts"]
        else:
            durations.setdefault(group, []).append((t - entry["ts"]).total_seconds())
    total = [sum(c[i] for c in reached.values()) for i in range(len(steps))]
    every = [d for ds in durations.values() for d in ds]
    return {"users": total, "median": statistics.median(every) if every else None,
            "groups": {g: c for g, c in reached.items()} if group_by else {}}


def brute_paths(rows: list[dict[str, Any]], page: str) -> tuple[Counter[str], Counter[str], int, int]:
    sequences: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["tenant_id"] == "t1" and r["type"] == "pageview":
            sequences.setdefault((r["user_id"] or r["anonymous_id"], r["session_id"]), []).append(r)
    following: Counter[str] = Counter()
    preceding: Counter[str] = Counter()
    exits = entries = 0
    for seq in sequences.values():
        seq.sort(key=lambda r: (r["ts"], r["event_id"]))
        names = [_page(r) for r in seq]
        for i, name in enumerate(names):
            if name != page:
                continue
            if i + 1 < len(names):
                following[names[i + 1]] += 1
            else:
                exits += 1
            if i > 0:
                preceding[names[i - 1]] += 1
            else:
                entries += 1
    return following, preceding, exits, entries


@pytest.fixture(params=["duckdb", "bigquery"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnalyticsStore]:
    if request.param == "duckdb":
        yield DuckDbAnalytics(tmp_path / "a.duckdb")
        return
    fake = FakeBigQuery(page_cap=1000, slow_jobs=False).start()
    yield BigQueryAnalytics("p", "d", endpoint=fake.endpoint, credentials_provider=lambda: "token")
    fake.stop()


FUNNELS = [
    ([{"type": "pageview", "url": "/"}, {"type": "pageview", "url": "/pricing"}], "7d", None),
    ([{"type": "pageview", "url": "/pricing"}, {"type": "cta_click", "name": "buy"},
      {"type": "pageview", "url": "/checkout"}], "1d", "utm_source"),
    ([{"type": "pageview"}, {"type": "pageview", "url": "/signup"}, {"type": "cta_click"},
      {"type": "pageview", "url": "/checkout"}], "30m", None),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_funnels_match_brute_force(store: AnalyticsStore, seed: int) -> None:
    rows = generate(seed, 300)
    store.insert(rows)
    for steps, window, group_by in FUNNELS:
        got = run_funnel(store, "t1", "dev", steps, window, group_by, None, T0 - timedelta(days=1),
                         T0 + timedelta(days=60))
        want = brute_funnel(rows, steps, window, group_by)
        assert [s["users"] for s in got["steps"]] == want["users"], (steps, window)
        assert got["median_seconds_to_convert"] == want["median"]
        assert {g["group"]: [s["users"] for s in g["steps"]] for g in got["groups"]} == want["groups"]
        first = got["steps"][0]["users"]
        for prev, step in zip(got["steps"], got["steps"][1:], strict=False):
            assert step["drop_off"] == prev["users"] - step["users"]
            assert step["conversion"] == pytest.approx(step["users"] / first if first else 0.0, abs=1e-6)


@pytest.mark.parametrize("seed", [4, 5])
def test_paths_match_brute_force(store: AnalyticsStore, seed: int) -> None:
    rows = generate(seed, 300)
    store.insert(rows)
    for page in PAGES:
        got = run_paths(store, "t1", "dev", page, None, 100, T0 - timedelta(days=1), T0 + timedelta(days=60))
        following, preceding, exits, entries = brute_paths(rows, page)
        assert {p["url"]: p["count"] for p in got["next"]} == dict(following)
        assert {p["url"]: p["count"] for p in got["previous"]} == dict(preceding)
        assert (got["exits"], got["entries"]) == (exits, entries)
        assert got["views"] == exits + sum(following.values())
        counts = [p["count"] for p in got["next"]]
        assert counts == sorted(counts, reverse=True)
        link_total = sum(link["value"] for link in got["sankey"]["links"])
        assert link_total == sum(following.values()) + sum(preceding.values())


def test_limit_and_window_edges(store: AnalyticsStore) -> None:
    base = {"tenant_id": "t1", "env": "dev", "site_id": "s1", "type": "pageview", "anonymous_id": "x", "session_id": "s"}
    store.insert([{**base, "event_id": "1", "ts": T0, "url": "/"},
                  {**base, "event_id": "2", "ts": T0 + timedelta(hours=1), "url": "/pricing"},
                  {**base, "event_id": "3", "anonymous_id": "y", "ts": T0, "url": "/"},
                  {**base, "event_id": "4", "anonymous_id": "y", "ts": T0 + timedelta(hours=1, seconds=1),
                   "url": "/pricing"}])
    steps = [{"type": "pageview", "url": "/"}, {"type": "pageview", "url": "/pricing"}]
    got = run_funnel(store, "t1", "dev", steps, "1h", None, None, T0, None)
    assert [s["users"] for s in got["steps"]] == [2, 1]  # exactly the window counts; a second later does not
    assert got["median_seconds_to_convert"] == 3600.0
    assert run_paths(store, "t1", "dev", "/", None, 1, T0, None)["next"] == [{"url": "/pricing", "count": 2}]

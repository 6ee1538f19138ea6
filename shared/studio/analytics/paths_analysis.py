"""Paths over the analytics store: the most common next and previous pages of a page, Sankey-ready.

A page is the pageview's canonical URL when it has one, else its URL. Sequences are per subject and
session (``user_id`` else ``anonymous_id``; events without a session form one sequence per subject),
ordered by time then event id. The brute-force check in tests/unit/test_journey_bruteforce.py
computes the same from the raw events.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from studio.analytics.funnels import time_range
from studio.ports.analytics import AnalyticsStore


def paths_sql(site_id: str | None) -> str:
    site = " AND site_id = @site" if site_id is not None else ""
    return (
        "WITH pv AS (SELECT COALESCE(user_id, anonymous_id) AS subject, session_id, ts, event_id, "
        "COALESCE(canonical_url, url) AS page FROM events WHERE tenant_id = @tenant AND env = @env "
        "AND type = 'pageview' AND ts >= @since AND ts < @until" + site + "), "
        "seq AS (SELECT page, "
        "LAG(page) OVER (PARTITION BY subject, session_id ORDER BY ts, event_id) AS prev_page, "
        "LEAD(page) OVER (PARTITION BY subject, session_id ORDER BY ts, event_id) AS next_page FROM pv) "
        "SELECT 'next' AS direction, next_page AS other, COUNT(*) AS n FROM seq WHERE page = @page GROUP BY next_page "
        "UNION ALL "
        "SELECT 'previous' AS direction, prev_page AS other, COUNT(*) AS n FROM seq WHERE page = @page "
        "GROUP BY prev_page")


def _top(counts: dict[str, int], limit: int) -> list[dict[str, Any]]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"url": url, "count": n} for url, n in ranked]


def run_paths(store: AnalyticsStore, tenant_id: str, env: str, page: str, site_id: str | None, limit: int,
              since: datetime | None, until: datetime | None) -> dict[str, Any]:
    start, end = time_range(since, until)
    params: dict[str, Any] = {"tenant": tenant_id, "env": env, "since": start, "until": end, "page": page}
    if site_id is not None:
        params["site"] = site_id
    following: dict[str, int] = {}
    preceding: dict[str, int] = {}
    exits = entries = 0
    for row in store.query(paths_sql(site_id), params):
        n = int(row["n"])
        if row["direction"] == "next":
            if row["other"] is None:
                exits += n
            else:
                following[row["other"]] = n
        elif row["other"] is None:
            entries += n
        else:
            preceding[row["other"]] = n
    views = exits + sum(following.values())
    nxt, prev = _top(following, limit), _top(preceding, limit)
    nodes = [{"id": "page:" + page, "label": page, "column": 1}]
    nodes += [{"id": "prev:" + p["url"], "label": p["url"], "column": 0} for p in prev]
    nodes += [{"id": "next:" + p["url"], "label": p["url"], "column": 2} for p in nxt]
    links = [{"source": "prev:" + p["url"], "target": "page:" + page, "value": p["count"]} for p in prev]
    links += [{"source": "page:" + page, "target": "next:" + p["url"], "value": p["count"]} for p in nxt]
    return {"page": page, "views": views, "next": nxt, "previous": prev, "exits": exits, "entries": entries,
            "sankey": {"nodes": nodes, "links": links}}

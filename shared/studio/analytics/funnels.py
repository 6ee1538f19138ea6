"""Funnels over the analytics store: users per step, conversion, drop-off and median time to convert.

Definition (the brute-force check in tests/unit/test_journey_bruteforce.py computes the same):
a user (``user_id``, else ``anonymous_id``) enters at their first step-1 event in the range; step k is
reached by the earliest matching event strictly after step k-1's, no later than the window after
the entry. ``group_by`` splits by that field of the entry event. Counting runs in SQL (the port's
dialect: the same text on DuckDB and BigQuery), one statement; the median is taken in Python over the
converted users' times.
"""
from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.ports.analytics import AnalyticsStore

_UNITS = {"m": 60, "h": 3600, "d": 86400}
DEFAULT_RANGE = timedelta(days=90)


def window_seconds(window: str) -> int:
    return int(window[:-1]) * _UNITS[window[-1]]


def time_range(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    end = until or datetime.now(UTC) + timedelta(minutes=1)
    return since or end - DEFAULT_RANGE, end


def _step_condition(step: dict[str, Any], index: int, alias: str, params: dict[str, Any]) -> str:
    parts = [f"{alias}.type = @s{index}_type"]
    params[f"s{index}_type"] = step["type"]
    for field in ("url", "page_type", "name"):
        if step.get(field) is not None:
            column = f"{alias}.page" if field == "url" else f"{alias}.{field}"
            parts.append(f"{column} = @s{index}_{field}")
            params[f"s{index}_{field}"] = step[field]
    return " AND ".join(parts)


def funnel_sql(tenant_id: str, env: str, steps: list[dict[str, Any]], window: str, group_by: str | None,
               site_id: str | None, since: datetime, until: datetime) -> tuple[str, dict[str, Any]]:
    """(SQL, params): rows of kind 'count' (step, grp, users) and 'converted' (grp, t1, t)."""
    params: dict[str, Any] = {"tenant": tenant_id, "env": env, "since": since, "until": until}
    site = ""
    if site_id is not None:
        site, params["site"] = " AND site_id = @site", site_id
    grp = group_by or "CAST(NULL AS STRING)"
    ctes = [
        "ev AS (SELECT COALESCE(user_id, anonymous_id) AS subject, ts, event_id, type, "
        "COALESCE(canonical_url, url) AS page, page_type, name, " + grp + " AS grp FROM events "
        "WHERE tenant_id = @tenant AND env = @env AND ts >= @since AND ts < @until" + site + ")",
        "s1 AS (SELECT subject, ts AS t1, ts AS t, grp FROM (SELECT e.subject, e.ts, e.grp, ROW_NUMBER() OVER "
        "(PARTITION BY e.subject ORDER BY e.ts, e.event_id) AS rn FROM ev e WHERE "
        + _step_condition(steps[0], 1, "e", params) + ") AS firsts WHERE rn = 1)",
    ]
    seconds = window_seconds(window)
    for i in range(2, len(steps) + 1):
        ctes.append(
            f"s{i} AS (SELECT p.subject, p.t1, MIN(e.ts) AS t, p.grp FROM s{i - 1} p JOIN ev e ON e.subject = p.subject "
            f"WHERE {_step_condition(steps[i - 1], i, 'e', params)} AND e.ts > p.t "
            f"AND e.ts <= p.t1 + INTERVAL {seconds} SECOND GROUP BY p.subject, p.t1, p.grp)")
    # One statement, so the step chain is planned and run once: the counts per step and group, then the
    # converted users' entry and last-step times (for the median), told apart by `kind`.
    counts = " UNION ALL ".join(
        f"SELECT 'count' AS kind, {i} AS step, grp, COUNT(*) AS users, CAST(NULL AS TIMESTAMP) AS t1, "
        f"CAST(NULL AS TIMESTAMP) AS t FROM s{i} GROUP BY grp" for i in range(1, len(steps) + 1))
    converted = f"SELECT 'converted' AS kind, 0 AS step, grp, 0 AS users, t1, t FROM s{len(steps)}"
    return "WITH " + ", ".join(ctes) + " " + counts + " UNION ALL " + converted, params


def _steps(labels: list[str], users: list[int]) -> list[dict[str, Any]]:
    out = []
    for i, n in enumerate(users):
        before = users[i - 1] if i else n
        out.append({"step": i + 1, "label": labels[i], "users": n,
                    "conversion": round(n / users[0], 6) if users[0] else 0.0,
                    "step_conversion": round(n / before, 6) if before else 0.0,
                    "drop_off": before - n})
    return out


def _median(durations: list[float]) -> float | None:
    return float(statistics.median(durations)) if durations else None


def label_of(step: dict[str, Any]) -> str:
    if step.get("label"):
        return str(step["label"])
    detail = step.get("url") or step.get("name") or step.get("page_type")
    return f"{step['type']} {detail}" if detail else str(step["type"])


def run_funnel(store: AnalyticsStore, tenant_id: str, env: str, steps: list[dict[str, Any]], window: str,
               group_by: str | None, site_id: str | None, since: datetime | None,
               until: datetime | None) -> dict[str, Any]:
    start, end = time_range(since, until)
    sql, params = funnel_sql(tenant_id, env, steps, window, group_by, site_id, start, end)
    labels = [label_of(s) for s in steps]
    per_group: dict[str | None, list[int]] = {}
    durations: dict[str | None, list[float]] = {}
    for row in store.query(sql, params):
        if row["kind"] == "count":
            per_group.setdefault(row["grp"], [0] * len(steps))[int(row["step"]) - 1] = int(row["users"])
        else:
            durations.setdefault(row["grp"], []).append((row["t"] - row["t1"]).total_seconds())
    total = [sum(users[i] for users in per_group.values()) for i in range(len(steps))]
    every = [d for ds in durations.values() for d in ds]
    groups = [{"group": g, "steps": _steps(labels, users), "median_seconds_to_convert": _median(durations.get(g, []))}
              for g, users in sorted(per_group.items(), key=lambda kv: (-kv[1][0], kv[0] or ""))] if group_by else []
    return {"steps": _steps(labels, total), "median_seconds_to_convert": _median(every), "groups": groups}

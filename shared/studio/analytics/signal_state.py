"""Incremental signal values: what one event adds to a subject's state, and what a state reads as now.

Pure functions over plain dicts (the subject document's ``states``), so the writer applies an event in
one store transaction and nothing ever rescans events. A windowed signal keeps one bucket per UTC day
("7d": today and the 6 days before) or per hour ("24h"); buckets that fall out of the window are dropped
as new events arrive. ``session`` keeps one bucket for the subject's current session and starts over
when an event of another session arrives; ``all`` keeps one bucket forever. ``distinct_count`` keeps
at most MAX_DISTINCT values per bucket (beyond it the count is a lower bound).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_DISTINCT = 1_000


def field_value(row: dict[str, Any], field: str | None) -> Any:
    if field is None:
        return None
    if field.startswith("props."):
        props = row.get("props") or {}
        if isinstance(props, str):
            props = json.loads(props)
        return props.get(field[len("props."):])
    value = row.get(field)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def matches(definition: dict[str, Any], row: dict[str, Any]) -> bool:
    source = definition["source"]
    if row.get("type") != source["event_type"]:
        return False
    if source.get("name") is not None and row.get("name") != source["name"]:
        return False
    return all(field_value(row, f) == v for f, v in source.get("where", {}).items())


def bucket_key(window: str, ts: datetime, session_id: str | None) -> str:
    if window == "all":
        return "all"
    if window == "session":
        return "s:" + (session_id or "-")
    if window.endswith("d"):
        return ts.astimezone(UTC).strftime("%Y-%m-%d")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _oldest_kept(window: str, now: datetime) -> str | None:
    if window in ("all", "session"):
        return None
    n = int(window[:-1])
    if window.endswith("d"):
        return (now - timedelta(days=n - 1)).astimezone(UTC).strftime("%Y-%m-%d")
    return (now - timedelta(hours=n - 1)).astimezone(UTC).strftime("%Y-%m-%dT%H")


def apply(definition: dict[str, Any], state: dict[str, Any] | None, row: dict[str, Any],
          now: datetime) -> dict[str, Any]:
    """The state after ``row`` (the caller checked ``matches``). A state of another definition rev starts over."""
    rev = definition["rev"]
    if state is None or state.get("rev") != rev:
        state = {"rev": rev, "buckets": {}}
    window = definition["window"]
    ts: datetime = row["ts"]
    key = bucket_key(window, ts, row.get("session_id"))
    buckets: dict[str, Any] = dict(state["buckets"])
    if window == "session" and key not in buckets:
        buckets = {}  # a new session: the previous one no longer counts
    oldest = _oldest_kept(window, now)
    if oldest is not None:
        if key < oldest:
            return state  # the event is older than the window: it cannot count any more
        buckets = {k: v for k, v in buckets.items() if k >= oldest}
    bucket = dict(buckets.get(key) or {"count": 0, "sum": 0.0})
    value = field_value(row, definition.get("field"))
    stamp = ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
    bucket["count"] += 1
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        bucket["sum"] = float(bucket["sum"]) + float(value)
        bucket["n"] = int(bucket.get("n", 0)) + 1
    if value is not None:
        if "first" not in bucket or stamp < bucket["first"][0]:
            bucket["first"] = [stamp, value]
        if "last" not in bucket or stamp >= bucket["last"][0]:
            bucket["last"] = [stamp, value]
        if definition["aggregation"] == "distinct_count":
            seen = list(bucket.get("distinct", []))
            if value not in seen and len(seen) < MAX_DISTINCT:
                seen.append(value)
            bucket["distinct"] = seen
    buckets[key] = bucket
    return {"rev": rev, "buckets": buckets}


def read(definition: dict[str, Any], state: dict[str, Any] | None, now: datetime) -> Any:
    """The signal's value for this state at ``now``; None when nothing counts (exists: False, count: 0)."""
    aggregation = definition["aggregation"]
    buckets: list[dict[str, Any]] = []
    if state is not None and state.get("rev") == definition["rev"]:
        oldest = _oldest_kept(definition["window"], now)
        buckets = [b for k, b in state["buckets"].items() if oldest is None or k >= oldest]
    count = sum(int(b["count"]) for b in buckets)
    if aggregation == "count":
        return count
    if aggregation == "exists":
        return count > 0
    if aggregation == "sum":
        return sum(float(b["sum"]) for b in buckets)
    if aggregation == "avg":
        n = sum(int(b.get("n", 0)) for b in buckets)
        return sum(float(b["sum"]) for b in buckets) / n if n else None
    if aggregation == "distinct_count":
        return len({json.dumps(v, sort_keys=True) for b in buckets for v in b.get("distinct", [])})
    marks = [b[aggregation] for b in buckets if aggregation in b]
    if not marks:
        return None
    chosen = min(marks, key=lambda m: m[0]) if aggregation == "first" else max(marks, key=lambda m: m[0])
    return chosen[1]

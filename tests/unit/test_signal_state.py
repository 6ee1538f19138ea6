"""Incremental signal values (signal_state.py) agree with recomputing from all the events, for every
aggregation and window, on generated events applied one at a time in a shuffled order."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from studio.analytics import signal_state

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _definition(aggregation: str, window: str, field: str | None = None, **source: Any) -> dict[str, Any]:
    return {"rev": 1, "aggregation": aggregation, "window": window, "field": field,
            "source": {"event_type": "pageview", **source}}


def _events(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    minutes = rng.sample(range(60 * 24 * 40), 200)  # distinct times: first/last of a tie is arrival order
    return [{"type": rng.choice(["pageview", "pageview", "cta_click"]), "ts": NOW - timedelta(minutes=minutes[i]),
             "value": float(rng.randrange(0, 100)), "url": rng.choice(["/a", "/b", "/c", "/d"]), "session_id": "s1",
             "name": None, "props": {"plan": rng.choice(["free", "pro"])}} for i in range(200)]


def _in_window(window: str, ts: datetime) -> bool:
    if window == "all":
        return True
    n = int(window[:-1])
    if window.endswith("d"):
        return ts.date() >= (NOW - timedelta(days=n - 1)).date()
    return ts.replace(minute=0, second=0, microsecond=0) >= (NOW - timedelta(hours=n - 1)).replace(
        minute=0, second=0, microsecond=0)


def _expected(d: dict[str, Any], events: list[dict[str, Any]]) -> Any:
    kept = sorted((e for e in events if signal_state.matches(d, e) and _in_window(d["window"], e["ts"])),
                  key=lambda e: e["ts"])
    values = [signal_state.field_value(e, d["field"]) for e in kept]
    agg = d["aggregation"]
    if agg == "count":
        return len(kept)
    if agg == "exists":
        return bool(kept)
    if agg == "sum":
        return sum(values)
    if agg == "avg":
        return sum(values) / len(values) if values else None
    if agg == "distinct_count":
        return len(set(values))
    if not values:
        return None
    return values[0] if agg == "first" else values[-1]


@pytest.mark.parametrize("window", ["all", "7d", "30d", "24h"])
@pytest.mark.parametrize(("aggregation", "field"), [("count", None), ("exists", None), ("sum", "value"),
                                                    ("avg", "value"), ("first", "url"), ("last", "url"),
                                                    ("distinct_count", "url")])
def test_incremental_equals_recomputed(window: str, aggregation: str, field: str | None) -> None:
    events = _events(sum(map(ord, window + aggregation)))
    d = _definition(aggregation, window, field, where={"props.plan": "pro"})
    state = None
    for event in random.Random(7).sample(events, len(events)):  # arrival order is not event order
        if signal_state.matches(d, event):
            state = signal_state.apply(d, state, event, NOW)
    got, want = signal_state.read(d, state, NOW), _expected(d, events)
    assert got == (pytest.approx(want) if aggregation in ("sum", "avg") else want)


def test_windows_forget_old_buckets_and_sessions_start_over() -> None:
    d = _definition("count", "7d")
    old = {"type": "pageview", "ts": NOW - timedelta(days=10), "session_id": "s"}
    new = {"type": "pageview", "ts": NOW, "session_id": "s"}
    state = signal_state.apply(d, None, old, NOW - timedelta(days=10))
    state = signal_state.apply(d, state, new, NOW)
    assert signal_state.read(d, state, NOW) == 1 and len(state["buckets"]) == 1
    assert signal_state.read(d, state, NOW + timedelta(days=8)) == 0  # read later: the window moved on
    s = _definition("count", "session")
    state = None
    for session, n in (("s1", 3), ("s2", 2)):
        for _ in range(n):
            state = signal_state.apply(s, state, {"type": "pageview", "ts": NOW, "session_id": session}, NOW)
    assert signal_state.read(s, state, NOW) == 2


def test_a_changed_definition_starts_over() -> None:
    d = _definition("count", "all")
    state = signal_state.apply(d, None, {"type": "pageview", "ts": NOW}, NOW)
    changed = {**d, "rev": 2}
    assert signal_state.read(changed, state, NOW) == 0
    assert signal_state.read(changed, signal_state.apply(changed, state, {"type": "pageview", "ts": NOW}, NOW), NOW) == 1

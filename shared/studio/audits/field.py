"""Field Core Web Vitals from the analytics store: p75 LCP, INP and CLS per route and per experiment
variation, judged against the "good" thresholds (LCP 2.5 s, INP 200 ms, CLS 0.1).

The rows are the ``web_vitals`` events the analytics ingest stores (``name`` LCP|INP|CLS, ``value``);
the route is the path of ``canonical_url`` (else ``url``). A variation is read from the event's props:
``experiment`` and ``variation`` (what a page tagging its vitals with its experiment sends). The p75 is
computed here by nearest rank, as CrUX reports it: percentile functions differ between DuckDB and
BigQuery, so the SQL stays in their common subset (studio.ports.analytics).
"""
from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.ports.analytics import AnalyticsStore

THRESHOLDS = {"LCP": 2500.0, "INP": 200.0, "CLS": 0.1}
MAX_ROWS = 200_000
_SQL = ("SELECT canonical_url, url, name, value, props FROM events WHERE tenant_id = @tenant AND env = @env "
        "AND site_id = @site AND type = 'web_vitals' AND ts >= @since AND name IN ('LCP', 'INP', 'CLS') "
        f"LIMIT {MAX_ROWS}")


_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def route_of(row: dict[str, Any]) -> str:
    """The URL's path. Not urlsplit: the ingest's PII filter may have redacted an IP host into text
    that is no valid host ("http://[REDACTED:IP_ADDRESS]:8080/x"), and the path is all we need."""
    url = str(row.get("canonical_url") or row.get("url") or "")
    return re.split(r"[?#]", _ORIGIN.sub("", url), maxsplit=1)[0] or "/"


def p75(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.75 * len(ordered)) - 1)]


def judge(samples: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric, limit in THRESHOLDS.items():
        values = samples.get(metric, [])
        if values:
            value = p75(values)
            out[metric] = {"p75": round(value, 4), "samples": len(values), "threshold": limit, "good": value <= limit}
    return out


def field_vitals(store: AnalyticsStore, tenant_id: str, env: str, site_id: str, days: int = 28,
                 route: str | None = None) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=days)
    rows = store.query(_SQL, {"tenant": tenant_id, "env": env, "site": site_id, "since": since})
    by_route: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    by_variation: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        path = route_of(row)
        if route is not None and path != route:
            continue
        value = row.get("value")
        if value is None or not math.isfinite(float(value)):
            continue
        by_route[path][row["name"]].append(float(value))
        props = _props(row.get("props"))
        if props.get("experiment") and props.get("variation"):
            key = (path, str(props["experiment"]), str(props["variation"]))
            by_variation[key][row["name"]].append(float(value))
    return {"site_id": site_id, "days": days, "samples": len(rows),
            "routes": [{"route": r, **judge(s)} for r, s in sorted(by_route.items())],
            "variations": [{"route": r, "experiment": e, "variation": v, **judge(s)}
                           for (r, e, v), s in sorted(by_variation.items())]}


def _props(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

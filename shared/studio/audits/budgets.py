"""Lighthouse ``budget.json`` budgets matched to a page and judged against measured lab figures.

The format is Lighthouse's (https://github.com/GoogleChrome/budget.json): a list of budgets, each with
an optional ``path`` (robots.txt-style: ``*`` any run of characters, a trailing ``$`` anchors the end;
no path matches every page), ``resourceSizes`` (KiB), ``resourceCounts`` and ``timings`` (ms; CLS
unitless) with an optional ``tolerance``. As in Lighthouse, the LAST budget whose path matches wins.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

RESOURCE_TYPES = ("document", "script", "stylesheet", "image", "media", "font", "other", "third-party", "total")
# Lighthouse timing metric -> the key of our lab metrics (None: we do not measure it in the lab run).
TIMING_METRICS: Mapping[str, str | None] = {
    "first-contentful-paint": "fcp_ms",
    "largest-contentful-paint": "lcp_ms",
    "total-blocking-time": "tbt_ms",
    "cumulative-layout-shift": "cls",
    "time-to-first-byte": "ttfb_ms",
    "interactive": None,
    "first-meaningful-paint": None,
    "max-potential-fid": None,
    "speed-index": None,
}


def _path_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    return re.compile("^" + ".*".join(re.escape(p) for p in body.split("*")) + ("$" if anchored else ""))


def matching_budget(budgets: Sequence[Mapping[str, Any]], url: str) -> Mapping[str, Any] | None:
    """The budget for ``url``'s path (and query): the last one whose ``path`` matches, or None."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    chosen = None
    for budget in budgets:
        pattern = budget.get("path")
        if pattern is None or _path_regex(pattern).match(path):
            chosen = budget
    return chosen


def judge(budget: Mapping[str, Any], metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One line per budget entry: what, measured, budget, unit, and over (True/False; None unmeasured)."""
    lines: list[dict[str, Any]] = []
    sizes = metrics.get("bytes_by_type", {})
    counts = metrics.get("requests_by_type", {})
    for entry in budget.get("resourceSizes", []):
        kind = entry["resourceType"]
        measured = round(sizes.get(kind, 0) / 1024, 1)
        lines.append(_line("resourceSizes", kind, measured, entry["budget"], "KiB"))
    for entry in budget.get("resourceCounts", []):
        kind = entry["resourceType"]
        lines.append(_line("resourceCounts", kind, counts.get(kind, 0), entry["budget"], "requests"))
    for entry in budget.get("timings", []):
        key = TIMING_METRICS.get(entry["metric"])
        value = None if key is None else metrics.get(key)
        limit = entry["budget"] + entry.get("tolerance", 0)
        lines.append(_line("timings", entry["metric"], value, limit, "" if key == "cls" else "ms"))
    return lines


def _line(section: str, what: str, measured: float | None, budget: float, unit: str) -> dict[str, Any]:
    return {"section": section, "what": what, "measured": measured, "budget": budget, "unit": unit,
            "over": None if measured is None else measured > budget}

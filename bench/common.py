"""Helpers shared by the benchmarks: ports, percentiles, verdicts, tables, results."""
from __future__ import annotations

import math
import platform
import socket
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

PASS, MISS, INFO, ERROR = "PASS", "MISS", "INFO", "ERROR"


def free_port() -> int:
    """A loopback port nobody listens on right now (benchmarks only talk to 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); ``p`` in 0..100."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    if math.isinf(ordered[hi]):  # what never happened (math.inf) stays infinitely late, never NaN
        return ordered[lo] if k == lo else math.inf
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.nan


def verdict(value_ratio: float, goal: float | None) -> str:
    """PASS when the ratio is at most the goal; INFO when the issue sets no goal."""
    if goal is None:
        return INFO
    if math.isnan(value_ratio):
        return ERROR
    return PASS if value_ratio <= goal else MISS


@dataclass
class Result:
    """One line of the summary table (and of .data/bench-results.json)."""

    bench: str
    measure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    goal: float | None = None  # max ratio; None: the issue sets no target, reported only
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return ratio(self.value, self.baseline) if self.baseline is not None else math.nan

    @property
    def status(self) -> str:
        return verdict(self.ratio, self.goal) if self.baseline is not None else INFO

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if math.isnan(self.ratio) else round(self.ratio, 4)
        data["status"] = self.status
        return data


def fmt_num(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".rstrip()


def fmt_ratio(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def fmt_goal(goal: float | None) -> str:
    return "report" if goal is None else f"<= {goal:g}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return indent + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = indent + "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def result_rows(results: Sequence[Result], with_bench: bool = False) -> str:
    headers = ["measure", "value", "baseline", "ratio", "goal", "status"]
    if with_bench:
        headers.insert(0, "bench")
    rows = []
    for r in results:
        base = "-" if r.baseline is None else f"{fmt_num(r.baseline, r.unit)} ({r.baseline_name})"
        row = [r.measure, fmt_num(r.value, r.unit), base, fmt_ratio(r.ratio), fmt_goal(r.goal), r.status]
        if with_bench:
            row.insert(0, r.bench)
        rows.append(row)
    return table(headers, rows)


def heading(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "machine": platform.machine()}

"""What the cross-process wake-up benches share (fleet_wake, broker_wake): a writer script run in a
process of its own with the library on its path, the clock the listening side keeps, and the p50/p99
pair of results, each beside the same percentile of the baseline path."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import Result, percentile

SHARED = Path(__file__).resolve().parents[1] / "shared"


def run_writer(script: str, *args: object) -> None:
    """``python -c script args...`` in a fresh process (a cold library, as another instance has)."""
    subprocess.run([sys.executable, "-c", script, *map(str, args)], env={"PYTHONPATH": str(SHARED)}, check=True)


class Arrivals:
    """Milliseconds from each write (its wall-clock time, carried in the write) to its arrival here;
    ``done`` is set once ``expected`` have arrived."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.ms: list[float] = []
        self.done = threading.Event()

    def arrived(self, written_at: float) -> None:
        self.ms.append((time.time() - written_at) * 1000)
        if len(self.ms) >= self.expected:
            self.done.set()


def p50_p99(bench: str, measure: str, name: str, measured: Sequence[float], baseline_name: str,
            baseline: Sequence[float], *, verbose: bool) -> list[Result]:
    """Two results (p50, p99) of ``measured`` against ``baseline``; ``name`` labels the measured path in
    the verbose line."""
    if verbose:
        print(f"  {name} p50 {percentile(measured, 50):.2f} ms p99 {percentile(measured, 99):.2f} ms "
              f"({len(measured)}); {baseline_name} p50 {percentile(baseline, 50):.2f} ms "
              f"p99 {percentile(baseline, 99):.2f} ms ({len(baseline)})")
    return [Result(bench, f"{measure} p{p}", percentile(measured, p), "ms", percentile(baseline, p), baseline_name,
                   goal=None, extra={"samples": len(measured)}) for p in (50, 99)]

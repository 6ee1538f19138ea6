"""Benchmarks named by the performance issue: ``make bench`` (``python -m bench``).

Benchmarks report, tests judge: a MISS is printed, it never fails the run.
"""
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / "shared"

# What vendoring does in a deployed zip (and what infra.localrun does): make ``studio`` importable.
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))

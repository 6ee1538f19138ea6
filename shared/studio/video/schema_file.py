"""The timeline's JSON Schema as shipped: generated from studio/video/timeline.py by
``python -m infra.timeline_schema`` (tests/unit/test_timeline_schema_file.py fails when it drifts),
read as bytes so serving it imports no pydantic (decision 0097)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("timeline.schema.json")


@cache
def schema_text() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")

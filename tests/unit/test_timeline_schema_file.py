"""The shipped timeline schema is what pydantic generates from the timeline models today (decision 0097):
``GET /video/timeline.schema.json`` serves the file, so a model change without
``python -m infra.timeline_schema`` fails here."""
from __future__ import annotations

import json

from infra.timeline_schema import render
from studio.video.schema_file import SCHEMA_FILE, schema_text
from studio.video.timeline import schema


def test_the_shipped_schema_is_the_models_schema() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), "run `python -m infra.timeline_schema`"
    assert json.loads(schema_text()) == schema()


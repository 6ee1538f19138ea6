"""shared/studio/video/timeline.schema.json from the timeline's pydantic models (a test fails when it
drifts). Run `python -m infra.timeline_schema` after changing studio/video/timeline.py.

``GET /video/timeline.schema.json`` serves the file's bytes: generating the schema imports pydantic
and builds every timeline model, ~60 ms of the video function's first request (decision 0097)."""
from __future__ import annotations

import json
from pathlib import Path

import infra.localrun  # noqa: F401 - puts shared/ on sys.path
from studio.video.schema_file import SCHEMA_FILE


def render() -> str:
    from studio.video.timeline import schema

    return json.dumps(schema(), indent=1) + "\n"


if __name__ == "__main__":
    Path(SCHEMA_FILE).write_text(render())
    print("wrote", SCHEMA_FILE)

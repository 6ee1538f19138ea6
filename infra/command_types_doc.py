"""functions/commands/command_types.json: ``GET /commands/types``'s body, from every domain's command
table (a test fails when it drifts). Run `python -m infra.command_types_doc` after adding or changing a
command type or its payload model.

The commands function serves the file's bytes: describing the types imports every domain's payload
models and has pydantic generate their schemas, ~70 ms of its first request (decision 0097)."""
from __future__ import annotations

import json
from pathlib import Path

import infra.localrun  # noqa: F401 - puts shared/ on sys.path
from studio import domains
from studio.kernel.command_registry import CommandRegistry

DOC = Path(__file__).resolve().parents[1] / "functions" / "commands" / "command_types.json"


def render() -> str:
    return json.dumps({"types": CommandRegistry(domains.command_types()).describe()}, indent=1) + "\n"


if __name__ == "__main__":
    DOC.write_text(render())
    print("wrote", DOC)

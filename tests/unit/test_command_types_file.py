"""The commands function's shipped GET /commands/types body is what every domain's command table
describes today (decision 0097): a new or changed command type without
``python -m infra.command_types_doc`` fails here."""
from __future__ import annotations

import json

from infra.command_types_doc import DOC, render
from studio import domains
from studio.kernel.command_registry import CommandRegistry


def test_the_shipped_types_are_the_registrys() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "run `python -m infra.command_types_doc`"
    shipped = json.loads(DOC.read_text(encoding="utf-8"))
    assert shipped == {"types": CommandRegistry(domains.command_types()).describe()}
    assert shipped["types"], "the registry describes no type"

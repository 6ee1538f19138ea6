"""One error-code registry, published: docs/errors.md and OpenAPI list every code."""
from __future__ import annotations

import re

from infra.errors_doc import DOC, render
from studio.kernel import errors


def test_docs_errors_md_is_in_sync_with_the_registry() -> None:
    assert DOC.read_text() == render(), "run `python -m infra.errors_doc`"


def test_codes_are_upper_snake_with_http_statuses() -> None:
    for code in errors.registry().values():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", code.code)
        assert 400 <= code.status <= 599


def test_a_code_cannot_be_registered_twice_with_another_meaning() -> None:
    import pytest

    with pytest.raises(ValueError):
        errors.register("NOT_FOUND", 410, "Gone")

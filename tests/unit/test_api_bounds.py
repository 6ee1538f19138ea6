"""Every integer a client may send is bounded, and query strings parse strictly.

Generated over every route of every function: a new query or body model with a bare ``int``
fails here. Unbounded integers reached SQLite (OverflowError past 2^63: a 500) and cannot even
be held by a JavaScript client past 2^53.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.api_types import MAX_SAFE_INT, Seq, UtcDatetime

ROUTES = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
MODELS = sorted({m for r in ROUTES for m in (r.query_model, r.body_model) if m is not None}, key=lambda m: m.__name__)


def _integers(schema: Any, defs: dict[str, Any], where: str, seen: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every integer schema reachable from ``schema``, with where it sits."""
    if isinstance(schema, list):
        return [i for n, s in enumerate(schema) for i in _integers(s, defs, f"{where}[{n}]", seen)]
    if not isinstance(schema, dict):
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen:
            found += _integers(defs[name], defs, name, seen | {name})
    if schema.get("type") == "integer":
        found.append((where, schema))
    for key, sub in schema.items():
        if key != "$defs":
            found += _integers(sub, defs, f"{where}.{key}", seen)
    return found


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_client_integer_is_bounded(model: type[BaseModel]) -> None:
    schema = model.model_json_schema(mode="validation")
    unbounded = [where for where, s in _integers(schema, schema.get("$defs", {}), model.__name__, set())
                 if not (isinstance(s.get("maximum"), int) and s["maximum"] <= MAX_SAFE_INT)]
    assert not unbounded, f"use studio.kernel.api_types (BoundedInt, Seq, Revision) for {unbounded}"


def test_query_models_bound_every_string() -> None:
    for model in {r.query_model for r in ROUTES if r.query is not None}:
        for name, prop in model.model_json_schema()["properties"].items():
            options = prop.get("anyOf", [prop])
            for option in options:
                if option.get("type") == "string" and "format" not in option:
                    assert "maxLength" in option or "enum" in option or _bounded_pattern(option.get("pattern")), \
                        f"{model.__name__}.{name}"


def _bounded_pattern(pattern: str | None) -> bool:
    """An anchored pattern with no unbounded repetition limits the length by itself."""
    return (pattern is not None and pattern.startswith("^") and pattern.endswith("$")
            and not any(c in pattern for c in "+*") and not re.search(r"\{\d*,\}", pattern))


class _Probe(BaseModel):
    seq: Seq = 0
    at: UtcDatetime | None = None


@pytest.mark.parametrize("raw", ["²", "٣", "1_000", " 5", "5.0", "+5", "-1", "0x10", "9" * 17, str(2**63), "",
                                 "NaN", True])
def test_a_seq_is_ascii_digits_and_bounded(raw: object) -> None:
    with pytest.raises(ValidationError):
        _Probe.model_validate({"seq": raw})


def test_a_seq_takes_plain_digits_and_json_integers() -> None:
    assert _Probe.model_validate({"seq": "42"}).seq == 42
    assert _Probe.model_validate({"seq": MAX_SAFE_INT}).seq == MAX_SAFE_INT


@pytest.mark.parametrize("raw", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", "2025-01-01T00:00:00"])
def test_times_must_have_an_offset_and_fit_in_utc(raw: str) -> None:
    with pytest.raises(ValidationError):
        _Probe.model_validate({"at": raw})


def test_times_are_normalised_to_utc() -> None:
    at = _Probe.model_validate({"at": "0001-01-01T00:00:00Z"}).at
    assert at is not None and at.year == 1 and at.utcoffset() is not None and at.utcoffset().total_seconds() == 0
    later = _Probe.model_validate({"at": "2025-06-01T12:00:00+02:00"}).at
    assert later is not None and later.hour == 10

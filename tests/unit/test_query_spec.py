"""A QuerySpec's light path accepts only what its pydantic model accepts, with the same values (decision 0097).

Walked over every route of every function that declares ``query=QuerySpec(...)``:

* the spec restates its model: the same field names, and each field's bounds, pattern, words and
  default are the ones in the model's JSON Schema (a bound changed in one place fails here);
* on a hostile corpus per field (unicode digits, NaN, 2^63, signs, spaces, line breaks, dates in
  every wrong shape, unknown and repeated-looking names) and on pairs of filters, whenever the light
  path accepts a query pydantic accepts it too and produces the same values; the light path refusing
  is always safe (pydantic then judges, as before);
* the light path is not empty: it accepts the bare query and, for every field, some non-default value.
"""
from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.query_spec import Int, OneOf, QuerySpec, Text, Time

ROUTES = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
SPECS = [r for r in ROUTES if isinstance(r.query, QuerySpec)]

_NUMBERS = ["0", "1", "2", "5", "00", "007", "+5", "-1", " 5", "5 ", "5\n", "5.0", "1_0", "1e3", "0x10", "²", "٣",
            "１", "NaN", "nan", "inf", "-inf", "", "true", str(2**63), str(2**64), "9" * 16, "9" * 17, "99", "100",
            "101", "199", "200", "201", "499", "500", "501", "1000"]
_TEXTS = ["a", "abc", "A-b_c", "site_1", "a.b:c@d", "a/b", "x" * 63, "x" * 64, "x" * 65, "x" * 128, "x" * 129,
          "x" * 2048, "x" * 2049, "", " a", "a ", "a\n", "a\nb", "\n", "é", "ａ", "-a", "_a", ".a", "a=b", "a+b",
          "eyJhIjoxfQ", "AbC-09_", "user", "agent", "api_client", "image", "ready", "upload", "ai", "NaN", "null"]
_TIMES = ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", "2026-06-30T12:34:56.123456+02:00",
          "2026-06-30T12:34:56.1234567Z", "2026-01-01T00:00:00-23:59", "9999-12-31T23:59:59-23:59",
          "0001-01-01T00:00:00+01:00", "2026-01-01", "2026-01-01T00:00:00", "1700000000", "2026-13-01T00:00:00Z",
          "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T23:59:60Z", "2026-01-01t00:00:00z",
          "2026-01-01 00:00:00Z", "2026-01-01T00:00Z", "2026-01-01T00:00:00+0000", " 2026-01-01T00:00:00Z",
          "2026-01-01T00:00:00Z ", "２０２６-01-01T00:00:00Z", "NaN", ""]


def _candidates(param: Any) -> list[str]:
    if isinstance(param, Int):
        return _NUMBERS + [str(param.ge), str(param.le), str(param.ge - 1), str(param.le + 1)]
    if isinstance(param, OneOf):
        return _TEXTS + list(param.values) + [v.upper() for v in param.values] + [f" {v}" for v in param.values]
    if isinstance(param, Time):
        return _TIMES
    return _TEXTS


def _pydantic(model: type[BaseModel], query: dict[str, str]) -> dict[str, Any] | None:
    try:
        return dict(model.model_validate(query))
    except ValidationError:
        return None


def _same(light: dict[str, Any], heavy: dict[str, Any]) -> bool:
    if light != heavy:
        return False
    # a time must come out identically: UTC, same instant, same tzinfo
    return all(type(light[k]) is type(heavy[k]) and (not isinstance(light[k], datetime) or
               (light[k].tzinfo is UTC and heavy[k].utcoffset() == light[k].utcoffset())) for k in light)


def _route_id(route: Any) -> str:
    return f"{route.method} {route.path}"


def test_some_routes_declare_a_query_spec() -> None:
    assert len(SPECS) >= 8


@pytest.mark.parametrize("route", SPECS, ids=_route_id)
def test_the_spec_restates_its_model(route: Any) -> None:
    spec: QuerySpec = route.query
    model = route.query_model
    assert model is not None
    assert set(spec.params) == set(model.model_fields), "the spec and the model name different fields"
    props = model.model_json_schema(mode="validation")["properties"]
    for name, param in spec.params.items():
        prop = props[name]
        options = prop.get("anyOf", [prop])
        assert prop.get("default") == param.default, f"{name}: default"
        if isinstance(param, Int):
            ints = [o for o in options if o.get("type") == "integer"]
            assert ints and ints[0].get("minimum") == param.ge and ints[0].get("maximum") == param.le, name
        elif isinstance(param, Text):
            strs = [o for o in options if o.get("type") == "string"]
            assert strs and "format" not in strs[0] and "enum" not in strs[0] and "const" not in strs[0], name
            assert strs[0].get("pattern") == param.pattern, f"{name}: pattern"
            assert strs[0].get("maxLength") == param.max_length, f"{name}: maxLength"
            assert strs[0].get("minLength", 0) == param.min_length, f"{name}: minLength"
        elif isinstance(param, OneOf):
            words = [o for o in options if "enum" in o or "const" in o]
            assert words and tuple(words[0].get("enum", [words[0].get("const")])) == param.values, name
        else:
            assert [o for o in options if o.get("format") == "date-time"], name


def _queries(spec: QuerySpec) -> list[dict[str, str]]:
    queries: list[dict[str, str]] = [{}, {"unknown": "1"}, {"LIMIT": "5"}]
    for name, param in spec.params.items():
        queries += [{name: value} for value in _candidates(param)]
        queries.append({name: _candidates(param)[0], "x": "1"})
    for earlier, later in spec.ordered:  # the cross-field rule: every pair of times
        queries += [{earlier: a, later: b} for a, b in itertools.product(_TIMES[:7], repeat=2)]
    return queries


def _disagreements(spec: QuerySpec, model: type[BaseModel]) -> tuple[list[str], int]:
    """Queries the light path accepts that the model refuses or reads differently; and how many it accepted."""
    wrong, accepted = [], 0
    for query in _queries(spec):
        light = spec.accept(query)
        if light is None:
            continue
        accepted += 1
        heavy = _pydantic(model, query)
        if heavy is None:
            wrong.append(f"the light path accepts {query!r}, which {model.__name__} refuses")
        elif not _same(vars(light), heavy):
            wrong.append(f"{query!r}: light {vars(light)!r} != pydantic {heavy!r}")
    return wrong, accepted


@pytest.mark.parametrize("route", SPECS, ids=_route_id)
def test_the_light_path_accepts_only_what_pydantic_accepts(route: Any) -> None:
    spec: QuerySpec = route.query
    model = route.query_model
    assert model is not None
    wrong, accepted = _disagreements(spec, model)
    assert not wrong, wrong[:5]
    assert spec.accept({}) is not None, "the bare query must not need pydantic"
    for name, param in spec.params.items():
        taken = [v for v in _candidates(param) if (got := spec.accept({name: v})) is not None
                 and getattr(got, name) != param.default]
        assert taken, f"{name}: the light path accepts no value at all"
    assert accepted > len(spec.params)


def test_the_comparison_can_fail() -> None:
    """A spec looser than its model is caught: a bound one wider, a pattern dropped, a time left naive."""
    from datetime import datetime as naive_time

    from pydantic import Field

    from studio.kernel.api_types import PageToken, StrictInt

    class Listing(BaseModel):
        limit: StrictInt = Field(default=50, ge=1, le=200)
        page_token: PageToken | None = None

    class Naive(BaseModel):
        since: naive_time | None = None

    wider = QuerySpec(Listing, {"limit": Int(ge=1, le=201, default=50), "page_token": Text(max_length=2048)})
    assert len(_disagreements(wider, Listing)[0]) >= 2  # limit=201, and a page token with a stray character
    assert not _disagreements(QuerySpec(Listing, {"limit": Int(ge=1, le=200, default=50),
                                                  "page_token": Text(pattern=r"^[A-Za-z0-9_-]*$", max_length=2048)}),
                              Listing)[0]
    assert _disagreements(QuerySpec(Naive, {"since": Time()}), Naive)[0]  # pydantic keeps the offset, not UTC

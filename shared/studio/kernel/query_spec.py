"""A query string accepted without pydantic when it is plainly valid; pydantic judges everything else.

A list GET validates its query (``limit``, ``page_token``, filters) with a pydantic model, and the
import of pydantic plus its first model is ~45 ms of a function's cold start (decisions 0082, 0097).
A ``QuerySpec`` names that model (the source of truth: its refusals' words, the OpenAPI parameters)
and restates its fields as a few plain checks. ``accept`` takes a query only when every parameter is
unmistakably valid (ASCII digits in bounds, a string matching its pattern with no whitespace to strip,
one of the allowed words, a canonical RFC 3339 time); on any doubt it answers None and the kernel asks
the pydantic model, which accepts or refuses exactly as before. So the light path can only ever accept
a subset of what the model accepts, with the same values: tests/unit/test_query_spec.py checks that
on a hostile corpus for every route declaring one, and that each spec restates its model's bounds.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from studio.kernel.model_refs import ModelRef

if TYPE_CHECKING:
    from pydantic import BaseModel

# Patterns are compiled on first use (re's cache), not at import: this module loads on every cold start.
_DIGITS = r"[0-9]{1,16}"  # kernel/api_types.strict_int's rule: ASCII only, at most 16
# RFC 3339 with a seconds field and an explicit offset; anything else (a date alone, a Unix
# timestamp, 7+ fraction digits, lower-case separators) is left to pydantic.
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
_UNSURE = object()  # "not plainly valid": pydantic decides


class Int:
    """``StrictInt = Field(default=.., ge=.., le=..)``: ASCII digits within the bounds."""

    __slots__ = ("default", "ge", "le")

    def __init__(self, ge: int, le: int, default: int | None = None) -> None:
        self.ge, self.le, self.default = ge, le, default

    def parse(self, raw: str) -> Any:
        if not re.fullmatch(_DIGITS, raw):
            return _UNSURE
        value = int(raw)
        return value if self.ge <= value <= self.le else _UNSURE


class Text:
    """A string with a pattern and/or length bounds (the model strips whitespace: none may be there)."""

    __slots__ = ("default", "max_length", "min_length", "pattern")

    def __init__(self, pattern: str | None = None, min_length: int = 0, max_length: int | None = None,
                 default: str | None = None) -> None:
        self.pattern, self.min_length, self.max_length, self.default = pattern, min_length, max_length, default

    def parse(self, raw: str) -> Any:
        # pydantic searches with Rust's regex, where ``$`` is the end of the text; Python's ``$``
        # also matches before a final newline, so text with a line break is never plainly valid
        if raw != raw.strip() or "\n" in raw or len(raw) < self.min_length:
            return _UNSURE
        if self.max_length is not None and len(raw) > self.max_length:
            return _UNSURE
        if self.pattern is not None and re.search(self.pattern, raw) is None:
            return _UNSURE
        return raw


class OneOf:
    """A ``Literal[...]`` of words."""

    __slots__ = ("default", "values")

    def __init__(self, values: tuple[str, ...], default: str | None = None) -> None:
        self.values, self.default = values, default

    def parse(self, raw: str) -> Any:
        return raw if raw in self.values else _UNSURE


class Time:
    """``UtcDatetime``: an RFC 3339 time with an offset, normalised to UTC."""

    __slots__ = ()
    default = None

    def parse(self, raw: str) -> Any:
        if not re.fullmatch(_TIME, raw):
            return _UNSURE
        try:
            return datetime.fromisoformat(raw).astimezone(UTC)
        except (ValueError, OverflowError):  # 2026-02-30, hour 24, past the last instant once in UTC
            return _UNSURE


Param = Int | Text | OneOf | Time


class QuerySpec:
    """A route's ``query=``: its pydantic model (named, imported only when needed) and its fields restated.

    ``ordered`` pairs (earlier, later): when both are given, earlier < later (a model validator's rule).
    Plain classes, not dataclasses: this module loads on every function's first request.
    """

    __slots__ = ("model", "ordered", "params")

    def __init__(self, model: ModelRef | type[BaseModel], params: Mapping[str, Param],
                 ordered: tuple[tuple[str, str], ...] = ()) -> None:
        self.model = model  # a ModelRef in a route module (mypy sees the class it names)
        self.params = params
        self.ordered = ordered

    def accept(self, args: Mapping[str, str]) -> SimpleNamespace | None:
        """The validated query, or None when pydantic must judge it (refusals are always its words)."""
        if not args.keys() <= self.params.keys():
            return None  # an unknown or aliased name: the model forbids it, or knows the alias
        values: dict[str, Any] = {}
        for name, param in self.params.items():
            raw = args.get(name)
            if raw is None:
                values[name] = param.default
                continue
            value = param.parse(raw)
            if value is _UNSURE:
                return None
            values[name] = value
        for earlier, later in self.ordered:
            if values[earlier] is not None and values[later] is not None and not values[earlier] < values[later]:
                return None
        return SimpleNamespace(**values)

PAGE_TOKEN = Text(pattern=r"^[A-Za-z0-9_-]*$", max_length=2048)  # kernel/api_types.PageToken


def page(limit: int, *, default: int = 50) -> dict[str, Param]:
    """``limit: StrictInt = Field(default=.., ge=1, le=limit)`` and ``page_token: PageToken | None``."""
    return {"limit": Int(ge=1, le=limit, default=default), "page_token": PAGE_TOKEN}

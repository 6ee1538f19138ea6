"""Targeting conditions in GrowthBook's condition syntax (MongoDB-style: ``$eq``, ``$in``, ``$regex``,
``$elemMatch``, ``$vgt`` ...), evaluated by the ``growthbook`` package's own ``evalCondition``.

Reused, not rewritten: its operators carry JavaScript's semantics in many small corners (type
ordering, version strings, truthiness) that GrowthBook's conformance corpus pins down, and the
package is MIT-licensed with ``evalCondition`` as public API. It is imported on the first
condition evaluated, not at cold start (it pulls aiohttp; decision 0059).

Conditions are written by tenant members and evaluated against attributes SDK callers send, so
``check`` refuses what could make one evaluation expensive: deep or large conditions and regular
expressions with nested quantifiers (catastrophic backtracking).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from studio.experiments.errors import CONDITION_INVALID
from studio.kernel import errors

MAX_CONDITION_BYTES = 16 * 1024
MAX_DEPTH = 12
MAX_REGEX_CHARS = 256
_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}][^()]*\)\s*[+*{]")
_REGEX_OPERATORS = ("$regex", "$regexi", "$notRegex", "$notRegexi")


def check(condition: Mapping[str, Any] | None) -> None:
    """Refuse a condition that is not a JSON object of bounded size, depth and regex complexity."""
    if condition is None:
        return
    if len(json.dumps(condition, allow_nan=False)) > MAX_CONDITION_BYTES:
        raise errors.StudioError(CONDITION_INVALID, f"a condition holds at most {MAX_CONDITION_BYTES} bytes")
    _walk(condition, 0)


def _walk(node: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise errors.StudioError(CONDITION_INVALID, f"a condition nests at most {MAX_DEPTH} levels")
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _REGEX_OPERATORS:
                _check_regex(value)
            _walk(value, depth + 1)
    elif isinstance(node, list):
        for item in node:
            _walk(item, depth + 1)


def _check_regex(pattern: Any) -> None:
    if not isinstance(pattern, str):
        raise errors.StudioError(CONDITION_INVALID, "a $regex operand is a string")
    if len(pattern) > MAX_REGEX_CHARS or _NESTED_QUANTIFIER.search(pattern):
        raise errors.StudioError(CONDITION_INVALID, "a $regex is at most 256 characters, without nested quantifiers")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise errors.StudioError(CONDITION_INVALID, "invalid $regex: Python's re module does not compile it") from exc


def matches(attributes: Mapping[str, Any], condition: Mapping[str, Any] | None) -> bool:
    """True when ``attributes`` satisfy ``condition`` (no condition: everyone)."""
    if not condition:
        return True
    from growthbook.core import (
        evalCondition,  # lazy: ~0.2 s of imports, paid by the first targeted evaluation
    )

    return bool(evalCondition(dict(attributes), dict(condition)))

"""The JSON boundary: every body or frame a client sends is parsed here, and only here.

Python's ``json`` accepts ``NaN`` and ``Infinity`` (which then poison any later
``json.dumps(allow_nan=False)`` or a Firestore write) and recurses on nesting until it
raises ``RecursionError``. Both are refused at the edge, with stable codes, so no
handler ever sees them.
"""
from __future__ import annotations

import json
import math
from typing import Any

from studio.kernel import errors

MAX_DEPTH = 64  # deeper than any document we model; far below the interpreter's recursion limit


def _refuse_constant(name: str) -> Any:
    raise errors.StudioError(errors.INVALID_JSON, f"{name} is not a JSON number; send a finite number or null")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # "1e400": a literal too large for a double, which Python makes Infinity
        raise errors.StudioError(errors.INVALID_JSON, f"{text[:40]} is out of range for a JSON number")
    return value


def depth_of(value: Any) -> int:
    """Nesting depth of a parsed JSON value (scalars are 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def parse_json(raw: bytes | str, *, what: str = "body") -> Any:
    """Parse client JSON strictly: finite numbers only, at most ``MAX_DEPTH`` levels deep.

    Raises ``StudioError`` (INVALID_JSON / JSON_TOO_DEEP) and never anything else.
    """
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except errors.StudioError:
        raise
    except RecursionError:
        raise errors.StudioError(errors.JSON_TOO_DEEP, f"{what} nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        # The decoder's message names offsets and codecs: parser internals, never shown to a client.
        raise errors.StudioError(errors.INVALID_JSON, f"{what} is not valid UTF-8 JSON") from None
    if depth_of(value) > MAX_DEPTH:
        raise errors.StudioError(errors.JSON_TOO_DEEP, f"{what} nests deeper than {MAX_DEPTH} levels")
    return value


def finite_only(value: Any) -> Any:
    """``value`` with every NaN and Infinity replaced by None: for data stored before the boundary
    refused them, which JSON cannot carry out again (it would poison every later read)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_only(v) for v in value]
    return value

"""Segment conditions: MongoDB-style operators over a subject's signals and attributes.

``{"signals.pageviews_7d": {"$gte": 3}, "attributes.country": {"$in": ["DE", "AT"]}}``, with ``$and``,
``$or``, ``$nor`` and ``$not`` to combine. The same operator names GrowthBook's conditions use, for the
subset a segment needs; a value compared with a number operator must be a number (a missing value
never matches ``$gt`` and friends, as in MongoDB). ``check`` refuses an unknown operator or a
condition nested too deep when the rule is saved, so ``evaluate`` never meets one.
"""
from __future__ import annotations

from typing import Any

from studio.analytics.errors import SEGMENT_INVALID
from studio.kernel import errors

MAX_DEPTH = 8
_COMPARE = {"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"}
_LOGIC = {"$and", "$or", "$nor"}


def _invalid(msg: str) -> errors.StudioError:
    return errors.StudioError(SEGMENT_INVALID, msg, errors=[{"loc": ["body", "segment"], "msg": msg}])


def check(condition: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _invalid(f"conditions nest at most {MAX_DEPTH} deep")
    if not isinstance(condition, dict):
        raise _invalid("a condition is an object")
    for key, value in condition.items():
        if key in _LOGIC:
            if not isinstance(value, list) or not value:
                raise _invalid(f"{key} takes a non-empty list of conditions")
            for sub in value:
                check(sub, depth + 1)
        elif key == "$not":
            check(value, depth + 1)
        elif key.startswith("$"):
            raise _invalid(f"unknown operator {key}")
        elif not (key.startswith("signals.") or key.startswith("attributes.")):
            raise _invalid(f"{key}: a field is signals.<name> or attributes.<key>")
        elif isinstance(value, dict):
            for op, arg in value.items():
                if op not in _COMPARE:
                    raise _invalid(f"unknown operator {op}")
                if op in ("$in", "$nin") and not isinstance(arg, list):
                    raise _invalid(f"{op} takes a list")


def _lookup(context: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    head, _, name = dotted.partition(".")
    scope = context.get(head, {})
    return (name in scope, scope.get(name)) if isinstance(scope, dict) else (False, None)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare(op: str, present: bool, value: Any, arg: Any) -> bool:
    if op == "$exists":
        return (present and value is not None) == bool(arg)
    if op == "$eq":
        return bool(value == arg)
    if op == "$ne":
        return bool(value != arg)
    if op == "$in":
        return value in arg
    if op == "$nin":
        return value not in arg
    if _number(value) and _number(arg):
        left, right = float(value), float(arg)
    elif isinstance(value, str) and isinstance(arg, str):
        left, right = value, arg  # type: ignore[assignment]
    else:
        return False
    return {"$gt": left > right, "$gte": left >= right, "$lt": left < right, "$lte": left <= right}[op]


def evaluate(condition: dict[str, Any], context: dict[str, Any]) -> bool:
    for key, value in condition.items():
        if key == "$and":
            ok = all(evaluate(c, context) for c in value)
        elif key == "$or":
            ok = any(evaluate(c, context) for c in value)
        elif key == "$nor":
            ok = not any(evaluate(c, context) for c in value)
        elif key == "$not":
            ok = not evaluate(value, context)
        else:
            present, actual = _lookup(context, key)
            if isinstance(value, dict):
                ok = all(_compare(op, present, actual, arg) for op, arg in value.items())
            else:
                ok = actual == value
        if not ok:
            return False
    return True

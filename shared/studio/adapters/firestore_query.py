"""Our ``Query`` on Firestore: filters, order, limit and opaque cursors.

The order is the query's ``order_by`` plus ``__name__`` in the last field's direction as the
tiebreak (a composite index ends with ``__name__`` in that direction implicitly, so no extra index
is needed). A cursor is base64url(JSON) of the last returned document's order values and its id,
handed to ``start_after``; the SQLite adapter's cursors have their own layout: cursors are opaque
and only valid on the store that issued them.

Firestore orders by every inequality field too: a range or ``!=`` filter on a field the query does
not order by is ordered by first (ascending), as Firestore would do implicitly; the cursor then
records it so pages stay consistent. (SQLite orders such a query by path.)
"""
from __future__ import annotations

from typing import Any

from studio.kernel import errors
from studio.kernel.paths import check_collection_path
from studio.ports.store import Direction, Query, decode_page_token, encode_page_token

_OPS = {"==", "!=", "<", "<=", ">", ">=", "in", "array_contains"}
_INEQUALITIES = {"!=", "<", "<=", ">", ">="}
MAX_IN_VALUES = 30  # Firestore's limit on disjunctions in one ``in`` filter
MAX_LIMIT = 10_000


def check_field(field: str) -> str:
    """The same field names the SQLite adapter accepts (dots reach into maps on both)."""
    if not field or field.startswith(".") or any(c in field for c in "'\"[]\\$`") \
            or (field.startswith("__") and field.endswith("__")):  # Firestore reserves __x__
        raise errors.StudioError(errors.BAD_REQUEST, f"invalid field name {field!r}")
    return field


def effective_order(query: Query) -> list[tuple[str, Direction]]:
    """The order Firestore applies, without the ``__name__`` tiebreak."""
    order = [(check_field(f), d) for f, d in query.order_by]
    ordered = {f for f, _ in order}
    for flt in query.filters:
        if flt.op in _INEQUALITIES and flt.field not in ordered:
            order.append((flt.field, "asc"))
            ordered.add(flt.field)
    return order


def build(client: Any, query: Query) -> tuple[Any, list[str]] | None:
    """The Firestore query (asking for one document more than the page) and its order fields,
    or None when the query can match nothing (an empty ``in``)."""
    from google.cloud.firestore_v1.base_query import FieldFilter

    collection = check_collection_path(query.collection)
    if not 1 <= query.limit <= MAX_LIMIT:
        raise errors.StudioError(errors.BAD_REQUEST, f"limit must be between 1 and {MAX_LIMIT}")
    fq: Any = client.collection(collection)
    for flt in query.filters:
        if flt.op not in _OPS:
            raise errors.StudioError(errors.BAD_REQUEST, f"unsupported operator {flt.op!r}")
        value = flt.value
        if flt.op == "in":
            value = list(value)
            if not value:
                return None
            if len(value) > MAX_IN_VALUES:
                raise errors.StudioError(errors.BAD_REQUEST, f"'in' takes at most {MAX_IN_VALUES} values")
        # filter= keyword: positional where() arguments raise a UserWarning in this client.
        fq = fq.where(filter=FieldFilter(check_field(flt.field), flt.op, value))
    order = effective_order(query)
    for field, direction in order:
        fq = fq.order_by(field, direction=_direction(direction))
    fq = fq.order_by("__name__", direction=_direction(order[-1][1] if order else "asc"))
    if query.cursor:
        fq = fq.start_after(decode_cursor(query.cursor, len(order)))
    return fq.limit(query.limit + 1), [f for f, _ in order]


def _direction(direction: str) -> str:
    return "DESCENDING" if direction == "desc" else "ASCENDING"


def cursor_after(snapshot: Any, fields: list[str]) -> str:
    return encode_page_token([snapshot.get(f) for f in fields] + [snapshot.id])


def decode_cursor(cursor: str, width: int) -> list[Any]:
    values = decode_page_token(cursor, width + 1)
    if not isinstance(values[-1], str) or "/" in values[-1] or not values[-1]:  # the last is a document id
        raise errors.StudioError(errors.BAD_REQUEST, "invalid page token")
    return values

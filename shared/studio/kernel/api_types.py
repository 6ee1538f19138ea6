"""Bounded field types for what clients send: ids, counters, cursors, revisions, times.

Every integer a client sends is bounded, because the store is not: SQLite refuses integers
beyond 2^63 with an OverflowError and a browser cannot even hold one above 2^53. A query
string integer is ASCII digits and nothing else: pydantic's lax mode would also take
``"1_000"``, ``" 5 "``, ``"5.0"`` and ``"+5"``, which a cursor or a seq must never be. A time
must be convertible to UTC (``9999-12-31T23:59:59-23:59`` is not) because the store compares
times as fixed-width UTC strings.

Use these in every query and body model; ``tests/unit/test_api_bounds.py`` walks every route's
schemas and refuses an unbounded integer.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

MAX_SAFE_INT = 2**53 - 1  # the largest integer a JavaScript client holds exactly
_DIGITS = re.compile(r"[0-9]{1,16}")  # ASCII only: str.isdigit() also says yes to "²"


def strict_int(value: Any) -> Any:
    """A query string integer is ASCII digits only; a JSON integer is an int, never a bool."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("must be a whole number written in ASCII digits (at most 16)")
        return int(value)
    return value


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is past the last representable instant
        raise ValueError("time is out of range once converted to UTC") from None


StrictInt = Annotated[int, BeforeValidator(strict_int)]
"""An integer parsed strictly, bounded where it is used: ``limit: StrictInt = Field(default=50, ge=1, le=500)``
(pydantic drops a use site's bounds on the aliases below, so those carry their own)."""

# Bounds before the validator: that order puts minimum/maximum in the JSON Schema (OpenAPI).
Seq = Annotated[int, Field(ge=0, le=MAX_SAFE_INT), BeforeValidator(strict_int)]
"""A per-thread message sequence number, or 0 for "before the first"."""

Revision = Annotated[int, Field(ge=0, le=MAX_SAFE_INT), BeforeValidator(strict_int)]
"""A document revision a write is based on (``base_rev``); 0 means "must not exist yet"."""

PageToken = Annotated[str, Field(max_length=2048, pattern=r"^[A-Za-z0-9_-]*$")]
"""An opaque page cursor as a list route returned it (base64url, no padding)."""

UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
"""An RFC 3339 time with an offset, normalised to UTC; refused when UTC cannot hold it."""

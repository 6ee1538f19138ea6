"""Optimistic concurrency (AIP-154): ``If-Match: "<rev>"`` or ``base_rev`` in the body.

Stale -> REVISION_CONFLICT (412 for If-Match, 409 for base_rev) with ``current_rev``;
neither given -> 428 PRECONDITION_REQUIRED. No write overwrites blindly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from studio.kernel import errors

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


@dataclass(frozen=True)
class Precondition:
    rev: int
    source: Literal["if-match", "base_rev"]

    @property
    def conflict_status(self) -> int:
        return 412 if self.source == "if-match" else 409


def etag(rev: int) -> str:
    return f'"{rev}"'


def parse_if_match(header: str | None) -> int | None:
    if header is None or not header.strip():
        return None
    m = _ETAG.match(header.strip())
    if m is None:
        raise errors.StudioError(errors.BAD_REQUEST, 'If-Match must be an ETag like "3"')
    return int(m.group(1))


def precondition(if_match: str | None, body: Any) -> Precondition | None:
    rev = parse_if_match(if_match)
    if rev is not None:
        return Precondition(rev, "if-match")
    base = getattr(body, "base_rev", None)
    if isinstance(base, int) and not isinstance(base, bool):
        return Precondition(base, "base_rev")
    return None


def require(pre: Precondition | None) -> Precondition:
    if pre is None:
        raise errors.StudioError(errors.PRECONDITION_REQUIRED)
    return pre

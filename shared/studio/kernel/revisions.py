"""Optimistic concurrency (AIP-154), enforced by the kernel before a revisioned route's handler.

A write states the revision it is based on: ``If-Match: "<rev>"`` (RFC 9110 strong comparison;
``*`` and lists accepted) or ``base_rev`` (body, or ``?base_rev=`` on a DELETE). The kernel reads
the resource's current revision through the route's ``current_rev`` resolver and answers:

* neither given -> 428 PRECONDITION_REQUIRED;
* the resource does not exist -> 404 (RFC 9110 13.2.1: a precondition is not evaluated when the
  request would fail anyway);
* If-Match does not match -> 412 REVISION_CONFLICT; base_rev differs -> 409 REVISION_CONFLICT;
  both carry ``current_rev``. When both are sent, both must hold.

The handler then writes with the revision the kernel verified (``Call.expected_rev``) in the same
transaction as its read (``kernel.repository``): the early answer saves the work, the
transactional check is the guarantee against a writer that raced in between.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from studio.kernel import entity_tags, errors

MAX_REV = (1 << 53) - 1  # revisions stay exact in a JavaScript number

if TYPE_CHECKING:
    from studio.kernel.call import Call


@dataclass(frozen=True)
class Precondition:
    rev: int  # the revision the kernel verified: the write must still find it
    source: Literal["if-match", "base_rev"]

    @property
    def conflict_status(self) -> int:
        return 412 if self.source == "if-match" else 409


def etag(rev: int) -> str:
    return f'"{rev}"'


def base_rev_of(call: Call) -> int | None:
    for part in (call.body, call.query):
        base: Any = getattr(part, "base_rev", None)
        if isinstance(base, int) and not isinstance(base, bool):
            return base
    return None


def enforce(call: Call) -> Precondition:
    """The kernel's revision check for a revisioned route; raises the early answer."""
    if_match = entity_tags.parse("If-Match", field_value(call, "If-Match"))
    base_rev = base_rev_of(call)
    if if_match is None and base_rev is None:
        raise errors.StudioError(errors.PRECONDITION_REQUIRED)
    resolver = call.route.current_rev
    assert resolver is not None  # Route refuses a revisioned route without one at declaration
    current = resolver(call)
    if current is None:
        raise errors.NotFound()
    if if_match is not None and not if_match.strong_match(entity_tags.EntityTag(str(current))):
        raise errors.RevisionConflict(current, status=412)
    if base_rev is not None and base_rev != current:
        raise errors.RevisionConflict(current, status=409)
    return Precondition(current, "if-match" if if_match is not None else "base_rev")


def field_value(call: Call, name: str) -> str | None:
    """Every line of a list header, combined as RFC 9110 5.3 says (a list may span several)."""
    lines = call.request.headers.getlist(name)
    return ", ".join(lines) if lines else None


def require(pre: Precondition | None) -> Precondition:
    if pre is None:
        raise errors.StudioError(errors.PRECONDITION_REQUIRED)
    return pre

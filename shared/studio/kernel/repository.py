"""Revised writes: get -> check rev -> put (rev + 1) -> emit the domain event, in one transaction.

Every client-revisioned write goes through here, so none can forget a step: the revision check
(the guarantee behind the kernel's early 412/409, for a writer that raced in between), the
store's own ``expected_rev`` on the put, and the event in the same commit (BLUEPRINT 3). The
functions take the caller's transaction, so a domain adds its own reads and writes to the same
commit (a mirror document, an invariant query); ``change`` and ``guard`` may raise to refuse.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, Transaction


@dataclass(frozen=True)
class Revised:
    before: Document | None  # None: created (an upsert at base_rev 0)
    after: Document
    event: DomainEvent


@dataclass(frozen=True)
class Removed:
    before: Document
    event: DomainEvent


def update(tx: Transaction, path: str, base_rev: int, *, change: Callable[[Document], Mapping[str, Any]],
           event: Callable[[Document, Document], DomainEvent], what: str = "resource",
           exists: Callable[[Document], bool] = lambda doc: True) -> Revised:
    """Replace an existing document's data with ``change(current)``; ``exists`` hides soft-deleted ones."""
    current = tx.get(path)
    if current is None or not exists(current):
        raise errors.NotFound(f"no such {what}")
    _check(current.rev, base_rev)
    after = tx.put(path, change(current), expected_rev=base_rev)
    return Revised(current, after, emit(tx, event(current, after)))


def upsert(tx: Transaction, path: str, base_rev: int, *, change: Callable[[Document | None], Mapping[str, Any]],
           event: Callable[[Document | None, Document], DomainEvent]) -> Revised:
    """For a resource that reads as rev 0 until first written: base_rev 0 creates it."""
    current = tx.get(path)
    _check(0 if current is None else current.rev, base_rev)
    after = tx.put(path, change(current), expected_rev=base_rev)
    return Revised(current, after, emit(tx, event(current, after)))


def delete(tx: Transaction, path: str, base_rev: int, *, event: Callable[[Document], DomainEvent],
           what: str = "resource", guard: Callable[[Document], None] = lambda doc: None) -> Removed:
    """Hard-delete an existing document once ``guard(current)`` allows it."""
    current = tx.get(path)
    if current is None:
        raise errors.NotFound(f"no such {what}")
    _check(current.rev, base_rev)
    guard(current)
    tx.delete(path, expected_rev=base_rev)
    return Removed(current, emit(tx, event(current)))


def _check(current_rev: int, base_rev: int) -> None:
    # Explicit rather than left to the put: a missing document at base_rev > 0 is a conflict at
    # rev 0 for upsert (the client's view is stale), which the store would call a 404.
    if current_rev != base_rev:
        raise errors.RevisionConflict(current_rev)

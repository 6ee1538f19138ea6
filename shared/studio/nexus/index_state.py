"""The state of a tenant's index: its generation and which embedding model fills which vector slot.

Cards carry two vector fields, ``vec_0`` and ``vec_1``. Search reads the active slot. Changing the
tenant's model fills the other slot in the background (reembed.py) while search keeps reading the
active one, then flips ``active_slot`` in one transaction: the old index serves until the new one is
complete. Every transaction that changes a card bumps ``generation``, so a cached index (numpy
matrix, BM25) knows it is stale with one document read.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.nexus import paths
from studio.nexus.errors import NEXUS_LIMIT_REACHED
from studio.ports.store import DocumentStore, Transaction
from studio.ports.vectors import VECTOR_PREFIX


@dataclass(frozen=True)
class IndexState:
    generation: int
    active_model: str
    active_slot: int
    pending_model: str | None = None
    reembed_run: str | None = None
    cards: int = 0  # how many cards the tenant holds (kept here: counting them would read them all)

    @property
    def pending_slot(self) -> int:
        return 1 - self.active_slot

    @property
    def active_field(self) -> str:
        return vector_field(self.active_slot)

    def slots(self) -> list[tuple[int, str]]:
        """(slot, model) every card write must fill: the active one, and the pending one while a change runs."""
        filled = [(self.active_slot, self.active_model)]
        if self.pending_model:
            filled.append((self.pending_slot, self.pending_model))
        return filled

    def as_data(self) -> dict[str, Any]:
        return {"generation": self.generation, "active_model": self.active_model, "active_slot": self.active_slot,
                "pending_model": self.pending_model, "reembed_run": self.reembed_run, "cards": self.cards}


def vector_field(slot: int) -> str:
    return f"{VECTOR_PREFIX}{slot}"


def _state(data: dict[str, Any] | None, default_model: str) -> IndexState:
    if not data:
        return IndexState(0, default_model, 0)
    return IndexState(int(data["generation"]), data["active_model"], int(data["active_slot"]),
                      data.get("pending_model"), data.get("reembed_run"), int(data.get("cards", 0)))


def read(store: DocumentStore, tenant_id: str, env: str, default_model: str) -> IndexState:
    doc = store.get(paths.index_state(tenant_id, env))
    return _state(None if doc is None else doc.data, default_model)


def read_in(tx: Transaction, tenant_id: str, env: str, default_model: str) -> IndexState:
    doc = tx.get(paths.index_state(tenant_id, env))
    return _state(None if doc is None else doc.data, default_model)


def write(tx: Transaction, tenant_id: str, env: str, state: IndexState) -> IndexState:
    tx.put(paths.index_state(tenant_id, env), state.as_data())
    return state


def bump(tx: Transaction, tenant_id: str, env: str, default_model: str, *, cards: int = 0,
         limit: int | None = None) -> IndexState:
    """Cards changed in ``tx`` (``cards`` more or fewer of them): the next search reloads cached indexes.
    Raises NEXUS_LIMIT_REACHED when the tenant would hold more than ``limit`` cards."""
    state = read_in(tx, tenant_id, env, default_model)
    total = max(0, state.cards + cards)
    if limit is not None and cards > 0 and total > limit:
        raise errors.StudioError(NEXUS_LIMIT_REACHED, f"a tenant keeps at most {limit} cards")
    bumped = IndexState(state.generation + 1, state.active_model, state.active_slot, state.pending_model,
                        state.reembed_run, total)
    return write(tx, tenant_id, env, bumped)

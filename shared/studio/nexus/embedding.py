"""Embedding a card for every slot the index needs, and the seam that picks a tenant's model.

A tenant's model is the index's active model: the platform's default until changed, by
``PUT /nexus/settings/model`` or by the runtime configuration's ``embeddings`` choice (runtime_model.py
follows ``runtime_config.changed``); either starts the re-embed (reembed.py), and the last one wins.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.nexus.index_state import IndexState, vector_field
from studio.ports.embeddings import Embedder


def card_text(title: str, body: str) -> str:
    return f"{title}\n{body}" if title else body


def vectors_for(embedder: Embedder, state: IndexState, texts: Sequence[str]) -> list[dict[str, Any]]:
    """For each text, the fields a card stores: ``vec_<slot>`` per slot to fill, and ``emb`` (slot -> model)."""
    out: list[dict[str, Any]] = [{"emb": {}} for _ in texts]
    for slot, model in state.slots():
        matrix = embedder.embed(list(texts), model, purpose="document")
        for row, fields in enumerate(out):
            fields[vector_field(slot)] = [round(float(x), 6) for x in matrix[row]]
            fields["emb"][str(slot)] = model
    return out


def tenant_model(state: IndexState) -> str:
    """The model a tenant's queries are embedded with: its index's active model."""
    return state.active_model

"""Relays the store's outbox to the bus: publish every pending entry, then delete it.

At-least-once: a crash (or a concurrent relay) between publish and delete republishes,
and consumers dedupe on the event id (``kernel.dedupe``). Locally the runtime's delivery
loop calls this; on Google Cloud the ``outbox_relay`` function does, triggered by each
outbox document Firestore creates.
"""
from __future__ import annotations

from typing import Any

from studio.ports.store import DocumentStore

MAX_BATCHES = 50  # one call relays at most 50 x limit entries; the next trigger or tick takes the rest


def relay_outbox(store: DocumentStore, bus: Any, limit: int = 200) -> int:
    """Publish and delete pending entries, batch after batch, until none is left (or MAX_BATCHES)."""
    relayed = 0
    for _ in range(MAX_BATCHES):
        pending = store.outbox_pending(limit)
        for message in pending:
            bus.publish(message.topic, message.data, dict(message.attributes), message.ordering_key)
        store.outbox_done([m.id for m in pending])
        relayed += len(pending)
        if len(pending) < limit:
            break
    return relayed

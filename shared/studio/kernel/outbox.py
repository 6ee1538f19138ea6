"""Relays the store's outbox to the bus: publish every pending entry, then delete it.

At-least-once: a crash (or a concurrent relay) between publish and delete republishes,
and consumers dedupe on the event id (``kernel.dedupe``). Locally the runtime's delivery
loop calls this; on Google Cloud the ``outbox_relay`` function does, triggered by each
outbox document Firestore creates.
"""
from __future__ import annotations

from typing import Any

from studio.ports.store import DocumentStore


def relay_outbox(store: DocumentStore, bus: Any, limit: int = 200) -> int:
    pending = store.outbox_pending(limit)
    for message in pending:
        bus.publish(message.topic, message.data, dict(message.attributes), message.ordering_key)
    store.outbox_done([m.id for m in pending])
    return len(pending)

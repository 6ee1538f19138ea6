"""At-least-once in, exactly-once effect out: a consumer records each event id it has
applied in the same transaction as the effect, so a redelivery changes nothing."""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from studio.kernel.clock import utc_now
from studio.ports.store import DocumentStore, Transaction


def marker_path(consumer: str, event_id: str) -> str:
    digest = hashlib.sha256(event_id.encode()).hexdigest()[:40]
    return f"processed_events/{consumer}__{digest}"


def apply_once(store: DocumentStore, consumer: str, event_id: str, effect: Callable[[Transaction], None]) -> bool:
    """Run ``effect(tx)`` unless this consumer already applied ``event_id``. True if applied now."""

    def run(tx: Transaction) -> bool:
        path = marker_path(consumer, event_id)
        if tx.get(path) is not None:
            return False
        effect(tx)
        tx.create(path, {"consumer": consumer, "event_id": event_id, "applied_at": utc_now()})
        return True

    return bool(store.run_transaction(run))

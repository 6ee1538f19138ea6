"""The idempotency journal's codec: what a store transaction returns survives the record."""
from __future__ import annotations

import pytest

from studio.kernel.events import DomainEvent
from studio.kernel.tx_journal import decode, encode
from studio.ports.store import Document


def test_codec_round_trips_what_transactions_return() -> None:
    doc = Document("a/b", {"x": [1, 2.5, None], "$odd": True}, 3, "t1", "t2")
    event = DomainEvent("tenant.renamed", "t_abc", "dev", "tenants/t_abc", {"to": "B"})
    for value in (None, 1, "s", [1, "a"], {"k": {"$tuple": 1}}, (doc, event), {"doc": doc}):
        assert decode(encode(value)) == value
    with pytest.raises(TypeError):
        encode({1, 2})

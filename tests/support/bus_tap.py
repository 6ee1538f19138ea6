"""A test's own subscription on a domain topic: what the running platform published after it opened."""
from __future__ import annotations

import json
import uuid
from typing import Any

from tests.support.platform import RunningPlatform


class EventTap:
    def __init__(self, platform: RunningPlatform, topic: str) -> None:
        self._platform = platform
        self._sub = f"test-tap-{uuid.uuid4().hex[:10]}"
        platform.drain()  # earlier writes are published before the tap opens
        platform.deps.bus.subscribe(self._sub, topic)

    def events(self, tenant_id: str) -> list[dict[str, Any]]:
        """Relays the outbox, then every event of ``tenant_id`` so far, in publish order."""
        self._platform.drain()
        bus, found = self._platform.deps.bus, []
        # Events of one aggregate share an ordering key: the next is delivered once the last is acked.
        while deliveries := bus.pull(self._sub, 100):
            for d in deliveries:
                found.append(json.loads(d.message.data))
                bus.ack(d)
        return [e for e in found if e["tenant_id"] == tenant_id]

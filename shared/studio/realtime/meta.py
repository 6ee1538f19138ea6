"""The tenant-scoped meta channel (CAPABILITIES A4), the gateway's side: cross-service events
(job progress, presence, audit results) published with ``studio.kernel.meta`` on the bus topic
``realtime.meta`` and fanned out by every gateway instance to the live connections of that
tenant and env."""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from typing import Any

from studio.kernel import logs
from studio.kernel.meta import TOPIC, emit_meta, publish_meta

__all__ = ["TOPIC", "MetaHub", "emit_meta", "publish_meta"]
_log = logs.get("studio.realtime.meta")


class MetaHub:
    """Pulls the meta topic on a background thread (one subscription per gateway instance)
    and hands each event to the event loop, which fans it out by tenant and env."""

    def __init__(self, bus: Any, loop: asyncio.AbstractEventLoop, instance: str | None = None) -> None:
        self._bus = bus
        self._loop = loop
        self.subscription = f"gateway-meta-{instance or uuid.uuid4().hex[:12]}"
        self._queues: dict[tuple[str, str], set[asyncio.Queue[Any]]] = {}
        self._stop = threading.Event()
        bus.subscribe(self.subscription, TOPIC, max_attempts=5, ack_deadline_s=10)
        self._thread = threading.Thread(target=self._run, name="meta-hub", daemon=True)
        self._thread.start()

    def add(self, tenant_id: str, env: str, queue: asyncio.Queue[Any]) -> None:
        self._queues.setdefault((tenant_id, env), set()).add(queue)

    def remove(self, tenant_id: str, env: str, queue: asyncio.Queue[Any]) -> None:
        self._queues.get((tenant_id, env), set()).discard(queue)

    def _fan_out(self, event: dict[str, Any]) -> None:  # on the event loop
        for queue in list(self._queues.get((event.get("tenant_id", ""), event.get("env", "")), ())):
            queue.put_nowait(event)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliveries = self._bus.pull(self.subscription, 100)
            except Exception:  # noqa: BLE001 - keep the channel alive; logged and retried
                _log.exception("meta pull failed")
                self._stop.wait(1.0)
                continue
            for delivery in deliveries:
                try:
                    event = json.loads(delivery.message.data)
                except ValueError:
                    self._bus.nack(delivery, "not JSON")  # dead-lettered after the retries, counted
                    continue
                self._loop.call_soon_threadsafe(self._fan_out, event)
                self._bus.ack(delivery)
            if not deliveries:
                self._bus.wait(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

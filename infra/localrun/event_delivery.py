"""Local stand-in for Pub/Sub push + Eventarc: relays the store's outbox to the bus and
delivers bus messages and storage-finalize notices to the event functions of the
manifest, as the same CloudEvent envelopes Google sends. At-least-once; a failing
delivery is retried with backoff, then dead-lettered and counted."""
from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from infra.localrun import loader
from infra.localrun.manifest import FunctionSpec
from studio.kernel import cloudevents, logs
from studio.kernel.outbox import relay_outbox

_log = logs.get("studio.localrun.delivery")
STORAGE_TOPIC_PREFIX = "storage.finalized."
MAX_ATTEMPTS = 5


def subscription_name(spec: FunctionSpec) -> str:
    return f"fn-{spec.name}"


def topic_of(spec: FunctionSpec) -> str:
    return spec.topic if spec.kind == "pubsub" else STORAGE_TOPIC_PREFIX + spec.topic


class EventDelivery:
    def __init__(self, deps: Any, specs: list[FunctionSpec]) -> None:
        self.deps = deps
        # Firestore-triggered functions (the outbox relay) are not fed here: the loop relays itself.
        specs = [s for s in specs if s.kind in ("pubsub", "storage")]
        self.specs = specs
        self.counters: Counter[str] = Counter()
        self._handlers = {subscription_name(s): (s, loader.entrypoint(s)) for s in specs}
        for spec in specs:
            deps.bus.subscribe(subscription_name(spec), topic_of(spec), max_attempts=MAX_ATTEMPTS,
                               ack_deadline_s=deps.settings.bus_ack_deadline_s,
                               dead_letter_topic=topic_of(spec) + ".dead-letter")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- producers ---------------------------------------------------------
    def storage_finalized(self, info: Any) -> None:
        """Called by the local blob server once an upload is durable (GCS object.finalize)."""
        body = {"bucket": info.bucket, "name": info.name, "size": info.size, "content_type": info.content_type,
                "generation": info.generation, "md5_b64": info.md5_b64, "crc32c_b64": info.crc32c_b64,
                "time": info.updated}
        self.deps.bus.publish(STORAGE_TOPIC_PREFIX + info.bucket, json.dumps(body).encode(), {"bucket": info.bucket})

    def relay_outbox(self) -> int:
        relayed = relay_outbox(self.deps.store, self.deps.bus)
        self.counters["relayed"] += relayed
        return relayed

    # -- consumer ----------------------------------------------------------
    def _envelope(self, spec: FunctionSpec, delivery: Any) -> dict[str, Any]:
        msg = delivery.message
        if spec.kind == "pubsub":
            return cloudevents.pubsub_envelope(msg, project=self.deps.settings.project,
                                               subscription=delivery.subscription)
        body = json.loads(msg.data)
        return cloudevents.storage_envelope(event_id=msg.message_id, **body)

    def deliver_once(self) -> int:
        delivered = 0
        for sub, (spec, fn) in self._handlers.items():
            for delivery in self.deps.bus.pull(sub, 10):
                delivered += 1
                try:
                    fn(cloudevents.to_cloudevent(self._envelope(spec, delivery)))
                except Exception as exc:  # noqa: BLE001 - a failed delivery is retried, then dead-lettered; never dropped
                    self.counters[f"{spec.name}.failed"] += 1
                    _log.warning("delivery failed", extra={"fields": {
                        "function": spec.name, "message_id": delivery.message.message_id,
                        "attempt": delivery.attempt, "error": repr(exc)}})
                    self.deps.bus.nack(delivery, repr(exc))
                else:
                    self.counters[f"{spec.name}.delivered"] += 1
                    self.deps.bus.ack(delivery)
        return delivered

    def run_until_idle(self, max_rounds: int = 1000) -> None:
        """Drain everything that is due now (tests call this for determinism)."""
        for _ in range(max_rounds):
            if self.relay_outbox() == 0 and self.deliver_once() == 0:
                return

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    busy = self.relay_outbox() + self.deliver_once()
                except Exception:  # noqa: BLE001 - keep delivering; the error is logged and counted
                    self.counters["loop_errors"] += 1
                    _log.exception("delivery loop error")
                    busy = 0
                if not busy:
                    self.deps.bus.wait(0.05)

        self._thread = threading.Thread(target=loop, name="event-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

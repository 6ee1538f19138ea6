"""Local stand-in for Pub/Sub push + Eventarc: relays the store's outbox to the bus and
delivers bus messages and storage-finalize notices to the event functions of the
manifest, as the same CloudEvent envelopes Google sends. At-least-once; a failing
delivery is retried with backoff, then dead-lettered and counted. A function whose manifest entry
has ``concurrency: N`` gets up to N deliveries at once, run on a pool of N threads (as one Cloud
Functions instance takes N events at once): the render chunk workers use the cores that way."""
from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
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
    def __init__(self, deps: Any, specs: list[FunctionSpec], *, relay: bool = True) -> None:
        self.deps = deps
        self._relay = relay  # one relay per data folder: a second worker process delivers only
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
        # concurrent functions: their pools and how many deliveries each has in flight
        self._pools = {subscription_name(s): ThreadPoolExecutor(s.concurrency, thread_name_prefix=f"deliver-{s.name}")
                       for s in specs if s.concurrency > 1}
        self._in_flight: Counter[str] = Counter()
        self._settled = threading.Condition()

    # -- producers ---------------------------------------------------------
    def storage_finalized(self, info: Any) -> None:
        """Called by the local blob server once an upload is durable (GCS object.finalize)."""
        body = {"bucket": info.bucket, "name": info.name, "size": info.size, "content_type": info.content_type,
                "generation": info.generation, "md5_b64": info.md5_b64, "crc32c_b64": info.crc32c_b64,
                "time": info.updated}
        self.deps.bus.publish(STORAGE_TOPIC_PREFIX + info.bucket, json.dumps(body).encode(), {"bucket": info.bucket})

    def relay_outbox(self) -> int:
        if not self._relay:
            return 0
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

    def _handle(self, spec: FunctionSpec, fn: Any, delivery: Any) -> None:
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

    def _handle_pooled(self, sub: str, spec: FunctionSpec, fn: Any, delivery: Any) -> None:
        try:
            self._handle(spec, fn, delivery)
        finally:
            with self._settled:
                self._in_flight[sub] -= 1
                self._settled.notify_all()

    def deliver_once(self) -> int:
        delivered = 0
        for sub, (spec, fn) in self._handlers.items():
            pool = self._pools.get(sub)
            if pool is None:
                for delivery in self.deps.bus.pull(sub, 10):
                    delivered += 1
                    self._handle(spec, fn, delivery)
                continue
            free = spec.concurrency - self._in_flight[sub]  # pull only what a thread can take now
            for delivery in self.deps.bus.pull(sub, min(10, free)) if free > 0 else []:
                delivered += 1
                with self._settled:
                    self._in_flight[sub] += 1
                pool.submit(self._handle_pooled, sub, spec, fn, delivery)
        return delivered

    def in_flight(self) -> int:
        with self._settled:
            return sum(self._in_flight.values())

    def run_until_idle(self, max_rounds: int = 1000) -> None:
        """Drain everything that is due now, including what the pools' deliveries publish in turn
        (tests call this for determinism)."""
        rounds = 0
        while rounds < max_rounds:
            if self.relay_outbox() + self.deliver_once():
                rounds += 1
                continue
            with self._settled:
                if not sum(self._in_flight.values()):
                    return
                self._settled.wait(0.05)  # a pooled delivery is still running: its results come next

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
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)

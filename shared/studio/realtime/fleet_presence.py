"""Presence and typing across gateway instances (docs/decisions/0072-presence-across-instances.md).

Each instance publishes its local joins, leaves and typing on the bus topic ``realtime.presence``
(SQLite bus here, Pub/Sub deployed: the same port), and every ``heartbeat_s`` a roster of who is
connected to it in which thread. Each instance pulls the topic on its own subscription and keeps
the other instances' entries; an instance not heard from for ``expire_s`` (3 heartbeats) is dead
and its clients stop counting (its users leave, as far as this instance's clients are told).
Nothing is persisted: a roster rebuilds a newcomer's view within one heartbeat.
"""
from __future__ import annotations

import asyncio
import json
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

from studio.kernel import logs

TOPIC = "realtime.presence"
_log = logs.get("studio.realtime.fleet_presence")

Key = tuple[str, str, str]
# What a link hands the hub, on the event loop: (instance, message).
Apply = Callable[[str, dict[str, Any]], None]


class PresenceLink:
    def __init__(self, bus: Any, loop: asyncio.AbstractEventLoop, apply: Apply,
                 roster: Callable[[], list[list[Any]]], *, heartbeat_s: float = 5.0,
                 instance: str | None = None) -> None:
        self.instance = instance or uuid.uuid4().hex[:12]
        self.heartbeat_s = heartbeat_s
        self.expire_s = 3 * heartbeat_s
        self._bus = bus
        self._loop = loop
        self._apply = apply
        self._roster = roster  # called on the event loop (the hub's rooms live there)
        self._out: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stop = threading.Event()
        self._beat_now = threading.Event()
        self.subscription = f"gateway-presence-{self.instance}"
        bus.subscribe(self.subscription, TOPIC, max_attempts=1, ack_deadline_s=10)
        self._threads = [threading.Thread(target=self._send_loop, name="presence-send", daemon=True),
                         threading.Thread(target=self._pull_loop, name="presence-pull", daemon=True),
                         threading.Thread(target=self._beat_loop, name="presence-beat", daemon=True)]
        for thread in self._threads:
            thread.start()
        self.send({"kind": "hello"})  # the others answer with their rosters at once

    def send(self, message: dict[str, Any]) -> None:
        """From the event loop: never blocks (a thread publishes)."""
        self._out.put({**message, "instance": self.instance})

    def _send_loop(self) -> None:
        while (message := self._out.get()) is not None:
            try:
                self._bus.publish(TOPIC, json.dumps(message, allow_nan=False).encode())
            except Exception:  # noqa: BLE001 - presence is best effort; the next roster repairs it
                _log.exception("presence publish failed")

    def _beat_loop(self) -> None:
        while True:
            self._beat_now.wait(self.heartbeat_s)
            self._beat_now.clear()
            if self._stop.is_set():
                return
            future = asyncio.run_coroutine_threadsafe(self._roster_now(), self._loop)
            try:
                rooms = future.result(timeout=self.heartbeat_s)
            except Exception:  # noqa: BLE001 - loop closing or busy: the next beat retries
                continue
            self.send({"kind": "roster", "rooms": rooms})
            self._loop.call_soon_threadsafe(self._apply, self.instance, {"kind": "tick"})

    async def _roster_now(self) -> list[list[Any]]:
        return self._roster()

    def _pull_loop(self) -> None:
        while not self._stop.is_set():
            try:
                deliveries = self._bus.pull(self.subscription, 200)
            except Exception:  # noqa: BLE001 - keep pulling; logged
                _log.exception("presence pull failed")
                self._stop.wait(1.0)
                continue
            for delivery in deliveries:
                self._bus.ack(delivery)
                try:
                    message = json.loads(delivery.message.data)
                    instance = str(message["instance"])
                except (ValueError, KeyError, TypeError):
                    continue
                if instance != self.instance and message.get("kind") == "hello":
                    self._beat_now.set()  # a newcomer: tell it who is here now
                if instance != self.instance:
                    self._loop.call_soon_threadsafe(self._apply, instance, message)
            if not deliveries:
                self._bus.wait(0.25)

    def close(self) -> None:
        self._stop.set()
        self._beat_now.set()
        self._out.put(None)
        for thread in self._threads:
            thread.join(timeout=2)

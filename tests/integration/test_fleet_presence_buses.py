"""Presence across gateway instances on both bus adapters (decision 0072): two instances, each a
PresenceHub with its own PresenceLink and event loop, over the SQLite bus and over Google's Pub/Sub
emulator. A join on one is seen on the other, typing crosses, a newcomer learns who is there from
the rosters, and an instance that goes silent stops counting within 3 heartbeats (+1 for the check).
The two-process fleet test (test_gateway_fleet.py) covers the same over real sockets."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.realtime.cursor import Cursor
from studio.realtime.fleet_presence import PresenceLink
from studio.realtime.presence import PresenceHub
from studio.realtime.subscriber import DeliveryStats, Subscriber
from tests.support.pubsub_emulator import HOST_ENV, PubsubEmulator, emulator_session

HEARTBEAT_S = 0.3
KEY = ("t_fleet", "dev", "th_1")


class Instance:
    """A gateway instance's presence side: its loop on a thread, its hub, its link."""

    def __init__(self, bus: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.hub = PresenceHub()
        self.link = PresenceLink(bus, self.loop, self.hub.apply, self.hub.roster, heartbeat_s=HEARTBEAT_S)
        self.hub.link = self.link
        self.subscriber = self.call(lambda: Subscriber(Cursor(), lambda e: "", lambda: "", 30.0, DeliveryStats()))

    def call(self, fn: Callable[[], Any]) -> Any:
        async def run() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=5)

    def frames(self) -> list[dict[str, Any]]:
        def drain() -> list[dict[str, Any]]:
            out = []
            while not self.subscriber.queue.empty():
                out.append(self.subscriber.queue.get_nowait())
            return out
        return list(self.call(drain))

    def stop(self) -> None:
        self.link.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError("not reached in time")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def pubsub_emulator(pytestconfig: pytest.Config) -> Iterator[PubsubEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.fixture(params=["sqlite", "pubsub"])
def make_bus(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    opened: list[Any] = []
    if request.param == "sqlite":
        from studio.adapters.sqlite_bus import SqliteBus

        def make() -> Any:
            bus = SqliteBus(tmp_path / "bus.db", wake=True)  # two buses on one file: two processes' view
            opened.append(bus)
            return bus
    else:
        emulator = request.getfixturevalue("pubsub_emulator")
        monkeypatch.setenv(HOST_ENV, emulator.host)
        from studio.adapters.pubsub_bus import PubsubBus

        prefix = f"p{uuid.uuid4().hex[:10]}-"

        def make() -> Any:
            bus = PubsubBus("demo-fleet-presence", name_prefix=prefix, create_missing=True, timeout_s=5.0)
            opened.append(bus)
            return bus
    yield make
    for bus in opened:
        bus.close()


def test_presence_and_typing_cross_instances_and_a_silent_one_expires(make_bus: Callable[[], Any]) -> None:
    a, b = Instance(make_bus()), Instance(make_bus())
    c: Instance | None = None
    try:
        a.call(lambda: a.hub.join(KEY, 1, "ann", a.subscriber))
        _until(lambda: b.call(lambda: b.hub.users(KEY)) == ["ann"])
        b.call(lambda: b.hub.join(KEY, 1, "bob", b.subscriber))
        _until(lambda: any(f["type"] == "presence.join" and f["data"]["user_id"] == "bob" for f in a.frames()))
        assert a.call(lambda: a.hub.users(KEY)) == ["ann", "bob"]
        b.call(lambda: b.hub.typing(KEY, 1, "bob", True))
        _until(lambda: any(f["type"] == "typing" and f["data"] == {"user_id": "bob", "active": True}
                           for f in a.frames()))
        # A newcomer learns both users from the rosters its hello asks for.
        c = Instance(make_bus())
        _until(lambda: c.call(lambda: c.hub.users(KEY)) == ["ann", "bob"])
        # b goes silent (as a killed process does: no leave, no more rosters).
        b.link.close()
        took = _until(lambda: a.call(lambda: a.hub.users(KEY)) == ["ann"], timeout=4 * HEARTBEAT_S + 5)
        assert took <= 4 * HEARTBEAT_S + 1.5, took
        assert any(f["type"] == "presence.leave" and f["data"]["user_id"] == "bob" for f in a.frames())
        # A leave is told at once, not at expiry.
        a.call(lambda: a.hub.leave(KEY, 1))
        _until(lambda: c.call(lambda: c.hub.users(KEY)) == [], timeout=3)
    finally:
        for instance in (a, b, *([c] if c else [])):
            instance.stop()

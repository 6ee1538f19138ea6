"""A subscriber's delivery rules: the fan-out writes while the connection's task waits; anything
that needs the task (a signal, backpressure, an epoch change) is queued, and everything after
it waits its turn, so the order on the wire is the order of the events.

``Wire`` stands in for the server's ASGI ``send`` (the edge of the gateway); the integration
tests run the same code against uvicorn over loopback sockets."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from studio.realtime.cursor import FINAL, Cursor
from studio.realtime.events import CREATED, EPOCH_CHANGED, ThreadEvent
from studio.realtime.subscriber import ClientGone, DeliveryStats, Subscriber


class Wire:
    """What reached the socket, in order. ``block`` makes a send wait (backpressure);
    ``broken`` makes it raise, as a server's send does for a client that left."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.block: asyncio.Future[None] | None = None
        self.broken = False

    async def send(self, message: dict[str, Any]) -> None:
        if self.broken:
            raise ConnectionResetError("client gone")
        if self.block is not None:
            await self.block
        self.sent.append(message["text"])


def _event(seq: int, kind: str = CREATED) -> ThreadEvent:
    return ThreadEvent(kind, "th_1", seq, FINAL, 1, {"text": f"m{seq}"})


def _subscriber(wire: Wire, floor: int = 0, interval: float = 30.0) -> Subscriber:
    return Subscriber(Cursor(floor), lambda e, cursor: {"text": f"{e.data['text']}@{cursor}"},
                      lambda: {"text": "ping"}, interval, DeliveryStats(), send=wire.send)


class Task:
    """The connection's task: takes what ``next`` hands it and writes queued events itself."""

    def __init__(self, sub: Subscriber) -> None:
        self.sub = sub
        self.items: list[Any] = []
        self.error: BaseException | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                item = await self.sub.next_item()
                self.items.append(item)
                if isinstance(item, ThreadEvent) and item.type != EPOCH_CHANGED:
                    await self.sub.write_event(item)
        except Exception as exc:  # noqa: BLE001 - what the test inspects
            self.error = exc

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _idle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


Scenario = Callable[[Wire, Subscriber, Task], Awaitable[None]]


def run(scenario: Scenario, interval: float = 30.0, floor: int = 0) -> None:
    """A subscriber on a Wire, its task started and waiting, then ``scenario``."""
    async def main() -> None:
        wire = Wire()
        sub = _subscriber(wire, floor=floor, interval=interval)
        task = Task(sub)
        await _idle()
        try:
            await scenario(wire, sub, task)
        finally:
            await task.stop()

    asyncio.run(main())


def test_the_fan_out_writes_to_a_waiting_subscriber_without_waking_its_task() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        for seq in (1, 2, 3):
            sub.offer(_event(seq))
            assert wire.sent[-1] == f"m{seq}@{seq}"  # on the spot, inside offer()
        await _idle()
        assert task.items == [] and sub.stats.direct == 3 and sub.stats.by_task == 0

    run(scenario)


def test_an_event_the_client_has_is_not_written_again() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        sub.offer(_event(2))
        sub.offer(_event(3))
        assert wire.sent == ["m3@3"]

    run(scenario, floor=2)


def test_once_something_is_queued_later_events_wait_their_turn() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        sub.signal({"type": "presence.join"})
        sub.offer(_event(1))
        sub.offer(_event(2))
        assert wire.sent == []  # queued behind the signal
        await _idle()
        assert task.items[0] == {"type": "presence.join"}
        assert wire.sent == ["m1@1", "m2@2"] and sub.stats.by_task == 2
        sub.offer(_event(3))  # drained: direct again
        assert wire.sent[-1] == "m3@3" and sub.stats.direct == 1

    run(scenario)


def test_backpressure_the_blocked_write_finishes_first_then_the_queue_in_order() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        writable = wire.block = asyncio.get_running_loop().create_future()
        sub.offer(_event(1))  # the socket is full: this write has to wait
        wire.block = None
        sub.offer(_event(2))  # queued behind it
        sub.offer(_event(3))
        await _idle()
        assert wire.sent == [] and sub.stats.backpressure == 1
        writable.set_result(None)  # the socket drains
        await _idle()
        assert wire.sent == ["m1@1", "m2@2", "m3@3"]
        assert (sub.stats.direct, sub.stats.by_task) == (1, 2)

    run(scenario)


def test_a_failed_direct_write_ends_the_stream_in_its_task() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        wire.broken = True
        sub.offer(_event(1))
        await _idle()
        assert isinstance(task.error, ClientGone) and isinstance(task.error.__cause__, ConnectionResetError)
        assert sub.stats.failed == 1

    run(scenario)


def test_an_epoch_change_is_handed_to_the_task() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        sub.offer(ThreadEvent(EPOCH_CHANGED, "th_1", 0, 0, 2, {"epoch": 2}))
        sub.offer(_event(1))
        await _idle()
        assert [getattr(i, "type", i) for i in task.items[:1]] == [EPOCH_CHANGED]

    run(scenario)


def test_after_the_server_closes_the_fan_out_writes_nothing() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        sub.close()  # what the gateway does before it closes a socket (idle, epoch change, revoked)
        sub.offer(_event(1))
        await _idle()
        assert wire.sent == [] and task.items == [] and sub.stats.failed == 0

    run(scenario)


def test_nothing_is_written_past_a_due_recheck() -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        await asyncio.sleep(0.1)
        sub.offer(_event(1))  # written: the re-check is not due yet
        loop = asyncio.get_running_loop()
        until = loop.time() + 0.15
        while loop.time() < until:  # the loop is busy past the deadline: the upkeep timer cannot run yet
            pass
        sub.offer(_event(2))  # due now: queued for the task, which re-checks first
        assert wire.sent == ["m1@1"]
        await _until(lambda: len(task.items) >= 2)
        assert task.items[0] is None and getattr(task.items[1], "seq", None) == 2
        assert wire.sent == ["m1@1", "m2@2"]

    run(scenario, interval=0.2)


@pytest.mark.parametrize("traffic", [False, True])
def test_upkeep_pings_only_after_an_interval_of_silence(traffic: bool) -> None:
    async def scenario(wire: Wire, sub: Subscriber, task: Task) -> None:
        await asyncio.sleep(0.1)
        if traffic:
            sub.offer(_event(1))
        await _until(lambda: len(task.items) >= 1)  # the first upkeep: 0.3 s after the start
        assert task.items == [None]
        assert wire.sent == (["m1@1"] if traffic else ["ping"])
        await _until(lambda: len(task.items) >= 2)  # with traffic: 0.3 s after the write, and it pings
        assert wire.sent == (["m1@1", "ping"] if traffic else ["ping", "ping"])

    run(scenario, interval=0.3)

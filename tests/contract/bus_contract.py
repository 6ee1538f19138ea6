"""Reusable contract for ``studio.ports.bus.Bus`` adapters.

Use: subclass ``BusContract`` in a ``test_*.py`` module and provide a ``bus_factory`` fixture:
a callable ``bus_factory(*, clock=None, backoff_base_s=0.5, backoff_cap_s=60.0,
share_with=None) -> Bus`` returning a fresh, empty bus (``share_with=bus`` instead returns a
new client on the same backing store, for durability checks). Adapters that cannot run on an
injected clock (a real Pub/Sub emulator) set ``fake_clock = False`` and the timing tests skip.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from studio.kernel import errors
from studio.ports.bus import Bus, Delivery

RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _ids(deliveries: list[Delivery]) -> list[str]:
    return [d.message.message_id for d in deliveries]


class BusContract:
    fake_clock = True
    stats_keys: frozenset[str] | None = None  # the keys an adapter's stats() can report; None: all, exactly

    def assert_stats(self, bus: Any, subscription: str, **expected: int) -> None:
        got = bus.stats(subscription)
        keys = expected.keys() if self.stats_keys is None else expected.keys() & self.stats_keys
        assert {k: got[k] for k in keys} == {k: expected[k] for k in keys}

    @pytest.fixture
    def clock(self) -> FakeClock:
        if not self.fake_clock:
            pytest.skip("adapter cannot run on an injected clock")
        return FakeClock()

    # -- basics ---------------------------------------------------------------------

    def test_publish_pull_ack(self, bus_factory):
        bus: Bus = bus_factory()
        bus.subscribe("s", "t")
        mid = bus.publish("t", b"\x00payload", {"k": "v"}, ordering_key="")
        [d] = bus.pull("s")
        assert (d.subscription, d.attempt) == ("s", 1)
        m = d.message
        assert (m.message_id, m.topic, m.data, m.attributes, m.ordering_key) == (mid, "t", b"\x00payload", {"k": "v"}, "")
        assert RFC3339_Z.match(m.publish_time), m.publish_time
        assert bus.pull("s") == []  # leased: invisible until the deadline
        bus.ack(d)
        bus.ack(d)  # a repeated ack is harmless
        assert bus.pull("s") == []
        self.assert_stats(bus, "s", pending=0, in_flight=0, acked=1, dead_lettered=0, redelivered=0)

    def test_pull_respects_max_messages_and_publish_order(self, bus_factory):
        bus = bus_factory()
        bus.subscribe("s", "t")
        mids = [bus.publish("t", str(i).encode()) for i in range(5)]
        first, rest = bus.pull("s", max_messages=2), bus.pull("s", max_messages=10)
        assert _ids(first) + _ids(rest) == mids
        assert len(set(mids)) == 5

    def test_fan_out_to_every_subscription(self, bus_factory):
        bus = bus_factory()
        bus.subscribe("a", "t")
        bus.subscribe("b", "t")
        bus.subscribe("other", "t2")
        mid = bus.publish("t", b"x")
        [da], [db] = bus.pull("a"), bus.pull("b")
        assert da.message.message_id == db.message.message_id == mid
        bus.ack(da)  # acking on one subscription leaves the other untouched
        self.assert_stats(bus, "b", in_flight=1)
        assert bus.pull("other") == []

    def test_no_delivery_to_subscription_created_after_publish(self, bus_factory):
        bus = bus_factory()
        bus.subscribe("early", "t")
        bus.publish("t", b"before")
        bus.subscribe("late", "t")
        assert bus.pull("late") == []
        after = bus.publish("t", b"after")
        assert _ids(bus.pull("late")) == [after]
        assert len(bus.pull("early")) == 2

    def test_subscribe_is_idempotent(self, bus_factory):
        bus = bus_factory()
        bus.subscribe("s", "t")
        bus.subscribe("s", "t")
        bus.publish("t", b"x")
        assert len(bus.pull("s")) == 1
        with pytest.raises(errors.StudioError):
            bus.subscribe("s", "another-topic")

    # -- timing ---------------------------------------------------------------------

    def test_lease_expiry_redelivers(self, bus_factory, clock):
        bus = bus_factory(clock=clock)
        bus.subscribe("s", "t", ack_deadline_s=10)
        mid = bus.publish("t", b"x")
        [first] = bus.pull("s")
        clock.advance(9.9)
        assert bus.pull("s") == []
        clock.advance(0.2)
        [second] = bus.pull("s")
        assert (second.message.message_id, second.attempt) == (mid, 2)
        bus.ack(first)  # stale lease: ignored, the message stays with the second attempt
        assert bus.stats("s")["in_flight"] == 1
        bus.ack(second)
        assert bus.stats("s") == {"pending": 0, "in_flight": 0, "acked": 1, "dead_lettered": 0, "redelivered": 1}

    def test_nack_backoff_grows_then_dead_letters(self, bus_factory, clock):
        bus = bus_factory(clock=clock, backoff_base_s=0.5, backoff_cap_s=60.0)
        bus.subscribe("s", "t", max_attempts=4, dead_letter_topic="t.dlq")
        bus.subscribe("dlq", "t.dlq")
        mid = bus.publish("t", b"poison", {"k": "v"})
        for attempt, delay in [(1, 0.5), (2, 1.0), (3, 2.0)]:
            [d] = bus.pull("s")
            assert d.attempt == attempt
            bus.nack(d, f"boom {attempt}")
            clock.advance(delay - 0.01)
            assert bus.pull("s") == [], f"visible before backoff of attempt {attempt}"
            clock.advance(0.01)
        [last] = bus.pull("s")
        assert last.attempt == 4
        bus.nack(last, "boom 4")
        clock.advance(3600)
        assert bus.pull("s") == []
        [(dead, error)] = bus.dead_letters("s")
        assert (dead.message_id, dead.data, error) == (mid, b"poison", "boom 4")
        [forwarded] = bus.pull("dlq")
        assert forwarded.message.data == b"poison" and forwarded.message.attributes["k"] == "v"
        stats = bus.stats("s")
        assert (stats["dead_lettered"], stats["redelivered"], stats["pending"]) == (1, 3, 0)

    def test_backoff_is_capped(self, bus_factory, clock):
        bus = bus_factory(clock=clock, backoff_base_s=0.5, backoff_cap_s=1.0)
        bus.subscribe("s", "t", max_attempts=10)
        bus.publish("t", b"x")
        for _ in range(4):
            [d] = bus.pull("s")
            bus.nack(d, "again")
            clock.advance(1.0)
        assert bus.pull("s")[0].attempt == 5

    def test_expired_final_lease_dead_letters(self, bus_factory, clock):
        bus = bus_factory(clock=clock)
        bus.subscribe("s", "t", max_attempts=1, ack_deadline_s=5)
        bus.publish("t", b"x")
        assert len(bus.pull("s")) == 1
        clock.advance(6)
        assert bus.pull("s") == []
        assert [e for _, e in bus.dead_letters("s")] == ["ack deadline exceeded"]

    # -- ordering -------------------------------------------------------------------

    def test_ordering_key_one_in_flight_and_order_kept(self, bus_factory, clock):
        bus = bus_factory(clock=clock)
        bus.subscribe("s", "t")
        a1 = bus.publish("t", b"a1", ordering_key="a")
        a2 = bus.publish("t", b"a2", ordering_key="a")
        b1 = bus.publish("t", b"b1", ordering_key="b")
        free = bus.publish("t", b"free")
        first = bus.pull("s", max_messages=10)
        assert _ids(first) == [a1, b1, free]  # a2 waits for a1
        by_id = {d.message.message_id: d for d in first}
        bus.nack(by_id[a1], "retry me")
        clock.advance(5)
        [again] = bus.pull("s")  # a1 again, a2 still behind it
        assert (again.message.message_id, again.attempt) == (a1, 2)
        bus.ack(again)
        [next_a] = bus.pull("s")
        assert (next_a.message.message_id, next_a.message.ordering_key) == (a2, "a")

    # -- stats, durability, concurrency -----------------------------------------------

    def test_stats_counts(self, bus_factory, clock):
        bus = bus_factory(clock=clock)
        bus.subscribe("s", "t", max_attempts=1)
        for i in range(5):
            bus.publish("t", str(i).encode())
        d1, d2, d3 = bus.pull("s", max_messages=3)
        bus.ack(d1)
        bus.nack(d2, "fatal")
        assert bus.stats("s") == {"pending": 2, "in_flight": 1, "acked": 1, "dead_lettered": 1, "redelivered": 0}
        with pytest.raises(errors.StudioError):
            bus.stats("missing")

    def test_durable_across_reopen(self, bus_factory, clock):
        bus = bus_factory(clock=clock)
        bus.subscribe("s", "t", ack_deadline_s=10)
        mids = [bus.publish("t", str(i).encode()) for i in range(3)]
        [leased] = bus.pull("s", max_messages=1)
        other = bus_factory(clock=clock, share_with=bus)
        assert other.stats("s")["pending"] == 2 and other.stats("s")["in_flight"] == 1
        rest = other.pull("s")
        assert _ids(rest) == mids[1:]
        for d in rest:
            other.ack(d)
        clock.advance(11)
        [again] = other.pull("s")
        assert (again.message.message_id, again.attempt) == (leased.message.message_id, 2)

    def test_concurrent_publishers_and_pullers_ack_each_message_once(self, bus_factory):
        bus = bus_factory()
        bus.subscribe("s", "t")
        published: list[str] = []
        received: list[str] = []
        lock = threading.Lock()
        done = threading.Event()

        def publisher(n: int) -> None:
            ids = [bus.publish("t", f"{n}-{i}".encode(), {"p": str(n)}) for i in range(250)]
            with lock:
                published.extend(ids)

        def puller() -> None:
            deadline = time.monotonic() + 12
            while not done.is_set() and time.monotonic() < deadline:
                batch = bus.pull("s", max_messages=20)
                for d in batch:
                    bus.ack(d)
                with lock:
                    received.extend(_ids(batch))
                    if len(received) >= 1000:
                        done.set()
                if not batch:
                    time.sleep(0.002)

        threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
        threads += [threading.Thread(target=puller) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        assert len(published) == 1000
        assert sorted(received) == sorted(published)  # every message, none twice
        self.assert_stats(bus, "s", pending=0, in_flight=0, acked=1000, dead_lettered=0, redelivered=0)

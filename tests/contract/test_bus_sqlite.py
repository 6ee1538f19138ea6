"""The bus contract against SqliteBus on real files, plus what only SqliteBus has (wait, WAL)."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from studio.adapters.sqlite_bus import SqliteBus
from studio.ports.bus import Bus
from tests.contract.bus_contract import BusContract


@pytest.fixture
def bus_factory(tmp_path: Path):
    opened: list[SqliteBus] = []

    def make(*, clock=None, backoff_base_s=0.5, backoff_cap_s=60.0, share_with=None) -> SqliteBus:
        path = share_with.path if share_with is not None else tmp_path / f"bus-{len(opened)}.sqlite"
        kwargs = {"clock": clock} if clock is not None else {}
        bus = SqliteBus(path, backoff_base_s=backoff_base_s, backoff_cap_s=backoff_cap_s, **kwargs)
        opened.append(bus)
        return bus

    yield make
    for bus in opened:
        bus.close()


class TestSqliteBus(BusContract):
    pass


def test_satisfies_the_port(bus_factory):
    assert isinstance(bus_factory(), Bus)


def test_file_is_in_wal_mode(bus_factory):
    bus = bus_factory()
    with sqlite3.connect(bus.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_wait_returns_early_on_publish(bus_factory):
    bus = bus_factory()
    bus.subscribe("s", "t")
    assert bus.pull("s") == []
    timer = threading.Timer(0.05, lambda: bus.publish("t", b"x"))
    started = time.monotonic()
    timer.start()
    bus.wait(5.0)
    timer.join()
    assert time.monotonic() - started < 2.0
    assert len(bus.pull("s")) == 1


def test_wait_does_not_lose_a_publish_between_pull_and_wait(bus_factory):
    bus = bus_factory()
    bus.subscribe("s", "t")
    assert bus.pull("s") == []
    bus.publish("t", b"x")  # lands before wait(): wait must not sleep
    started = time.monotonic()
    bus.wait(5.0)
    assert time.monotonic() - started < 1.0


def test_wait_times_out_without_publish(bus_factory):
    bus = bus_factory()
    started = time.monotonic()
    bus.wait(0.05)
    assert 0.04 <= time.monotonic() - started < 1.0


def test_pull_unknown_subscription_is_not_found(bus_factory):
    from studio.kernel import errors

    with pytest.raises(errors.NotFound):
        bus_factory().pull("nope")


def test_two_instances_on_one_file_share_work_exactly_once(bus_factory):
    # Separate instances do not share the in-process write lock: this exercises SQLite's own
    # locking (BEGIN IMMEDIATE + busy_timeout), as two processes on one file would.
    first = bus_factory()
    second = bus_factory(share_with=first)
    first.subscribe("s", "t")
    published: list[str] = []
    received: list[str] = []
    lock = threading.Lock()

    def publish(bus: SqliteBus) -> None:
        ids = [bus.publish("t", b"x") for _ in range(150)]
        with lock:
            published.extend(ids)

    def consume(bus: SqliteBus) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if len(received) >= 300:
                    return
            batch = bus.pull("s", max_messages=10)
            for d in batch:
                bus.ack(d)
            with lock:
                received.extend(d.message.message_id for d in batch)
            if not batch:
                bus.wait(0.01)

    threads = [threading.Thread(target=f, args=(b,)) for f in (publish, consume) for b in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=15)
    assert sorted(received) == sorted(published) and len(published) == 300
    assert first.stats("s")["acked"] == 300

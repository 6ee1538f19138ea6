"""The Redis broker adapter against a real redis-server: hints reach exact-name subscribers only,
a restart of the broker ends in RESYNC for every subscriber, publishing to a dead broker never
raises nor blocks long, and presence members expire at their TTL."""
from __future__ import annotations

import threading
import time

import pytest

from studio.adapters.redis_broker import RedisBroker
from studio.ports.broker import RESYNC, presence_key, thread_channel
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


class Inbox:
    def __init__(self) -> None:
        self.items: list[bytes] = []
        self.arrived = threading.Condition()

    def __call__(self, payload: bytes) -> None:
        with self.arrived:
            self.items.append(payload)
            self.arrived.notify_all()

    def wait_for(self, predicate, timeout: float = 5) -> None:  # noqa: ANN001 - a list predicate
        with self.arrived:
            assert self.arrived.wait_for(lambda: predicate(self.items), timeout), self.items


def test_channel_names_carry_the_tenant_and_refuse_patterns() -> None:
    assert thread_channel("chat", "t_abc", "dev", "th_1") == "studio:t_abc:dev:chat:th_1"
    for bad in ("t_a:b", "t_*", "t_[ab]", "t_?", "", "t_a b", "x" * 129):
        with pytest.raises(ValueError):
            thread_channel("chat", bad, "dev", "th_1")
    with pytest.raises(ValueError):
        thread_channel("chat", "t_abc", "dev", "th_*")
    assert presence_key("t_abc", "dev", "th_1") != thread_channel("chat", "t_abc", "dev", "th_1")


def test_hints_reach_only_the_exact_channel(redis_server: RedisServer) -> None:  # noqa: F811
    broker = RedisBroker(redis_server.url)
    try:
        mine, other_tenant = Inbox(), Inbox()
        a = broker.subscribe(thread_channel("chat", "t_aaa", "dev", "th_1"), mine)
        b = broker.subscribe(thread_channel("chat", "t_bbb", "dev", "th_1"), other_tenant)
        broker.publish(thread_channel("chat", "t_aaa", "dev", "th_1"), b'{"seq":1}')
        broker.publish(thread_channel("chat", "t_aaa", "dev", "th_1"), b'{"seq":2}')
        mine.wait_for(lambda items: len(items) == 2)
        assert mine.items == [b'{"seq":1}', b'{"seq":2}']  # in order
        time.sleep(0.2)
        assert other_tenant.items == []  # the same thread id under another tenant is another channel
        a.close()
        broker.publish(thread_channel("chat", "t_aaa", "dev", "th_1"), b'{"seq":3}')
        time.sleep(0.3)
        assert len(mine.items) == 2  # unsubscribed
        b.close()
    finally:
        broker.close()


def test_a_broker_restart_ends_in_resync_and_a_dead_broker_costs_no_error(redis_server: RedisServer) -> None:  # noqa: F811
    broker = RedisBroker(redis_server.url, timeout_s=0.3)
    try:
        inbox = Inbox()
        channel = thread_channel("chat", "t_aaa", "dev", "th_1")
        broker.subscribe(channel, inbox)
        redis_server.kill()
        started = time.monotonic()
        for _ in range(20):  # the breaker: one short timeout, then skipped
            broker.publish(channel, b'{"seq":9}')
        assert time.monotonic() - started < 1.5
        assert broker.publish_failures >= 1
        redis_server.start()
        inbox.wait_for(lambda items: RESYNC in items, timeout=10)  # told to read the store again
        time.sleep(1.1)  # past the breaker
        broker.publish(channel, b'{"seq":10}')
        inbox.wait_for(lambda items: b'{"seq":10}' in items)  # subscribed again by itself
    finally:
        broker.close()


def test_presence_members_expire_at_their_ttl(redis_server: RedisServer) -> None:  # noqa: F811
    broker = RedisBroker(redis_server.url)
    try:
        key = presence_key("t_aaa", "dev", "th_1")
        broker.presence_put(key, ["i1|u_a", "i2|u_b"], ttl_s=0.6)
        assert sorted(broker.presence_live([key])[0]) == ["i1|u_a", "i2|u_b"]
        time.sleep(0.35)
        broker.presence_put(key, ["i1|u_a"], ttl_s=0.6)  # i1 refreshes, i2 is dead
        time.sleep(0.4)
        assert broker.presence_live([key]) == [["i1|u_a"]]
        broker.presence_remove(key, ["i1|u_a"])
        assert broker.presence_live([key, presence_key("t_bbb", "dev", "th_1")]) == [[], []]
    finally:
        broker.close()

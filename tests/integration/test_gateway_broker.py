"""The gateway fleet on the realtime broker (decisions 0075, 0076): two gateway processes with
``STUDIO_REALTIME_BROKER`` pointing at a real redis-server. Feeds follow no store listener: only
the chat write path's hints wake them (the safety poll is set to a minute, longer than any wait
here), so every delivery below went through the broker. Killing the broker mid-stream loses
nothing acknowledged (clients catch up from the store once it is back), another tenant's channels
are never subscribed to, and presence lives in broker keys that expire with a dead instance."""
from __future__ import annotations

import json
import time
from contextlib import ExitStack

import httpx
import pytest
import redis

from tests.support.api import new_tenant, new_user
from tests.support.gateway_fleet import (
    Fleet,
    created_seqs,
    health,
    new_room,
    new_thread,
    on_broker,  # noqa: F401 - the fixture
    owned_thread,
    post_message,
)
from tests.support.realtime_clients import SseReader
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow




def _channels(server: RedisServer) -> list[str]:
    client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=2)
    try:
        return sorted(c.decode() for c in client.pubsub_channels("studio:*"))
    finally:
        client.close()


def test_two_gateways_on_the_broker_agree_and_survive_a_broker_kill(
        on_broker: Fleet, redis_server: RedisServer) -> None:  # noqa: F811
    server = redis_server
    owner, tenant, thread_id = owned_thread(on_broker, "Broker")
    headers = owner.in_tenant(tenant)
    with httpx.Client(base_url=on_broker.url(0), timeout=30) as c0, \
            httpx.Client(base_url=on_broker.url(1), timeout=30) as c1:
        on0 = SseReader(c0, f"/sse/chat/{thread_id}?since=0", headers)
        on1 = SseReader(c1, f"/sse/chat/{thread_id}?since=0", headers)
        seqs = [post_message(on_broker.url(i % 2), owner, tenant, thread_id, f"message {i}") for i in range(4)]
        for reader in (on0, on1):  # each user message and the agent's streamed reply to it
            reader.wait_for(lambda evs: set(seqs) <= set(created_seqs(evs))
                            and sum(e.event == "message.completed" for e in evs) >= 4, timeout=30)
        for i in range(2):
            seen = health(on_broker.url(i))
            assert seen["feed_source"] == "broker" and seen["broker_hints"]["delivered"] > 0  # from hints (0106)
        assert f"studio:{tenant}:dev:chat:{thread_id}" in _channels(server)
        # The broker dies mid-stream: writes are still acknowledged (the hint is dropped, never an error).
        server.kill()
        started = time.monotonic()
        during = [post_message(on_broker.url(i % 2), owner, tenant, thread_id, f"while down {i}") for i in range(4)]
        assert time.monotonic() - started < 15
        server.start()  # back, empty: no hint of what was written meanwhile survived
        for reader in (on0, on1):  # the gateways reconnect, resubscribe and read the store from their cursors
            reader.wait_for(lambda evs: set(during) <= set(created_seqs(evs)), timeout=30)
        after = post_message(on_broker.url(1), owner, tenant, thread_id, "after the broker came back")
        for reader in (on0, on1):
            reader.wait_for(lambda evs: after in created_seqs(evs), timeout=30)
        on0.close()
        on1.close()
    # The same messages in the same order on both processes, none twice, none missing.
    users0 = [s for s in created_seqs(on0.events) if s in {*seqs, *during, after}]
    users1 = [s for s in created_seqs(on1.events) if s in {*seqs, *during, after}]
    assert users0 == users1 == sorted({*seqs, *during, after})
    for reader in (on0, on1):
        assert len(created_seqs(reader.events)) == len(set(created_seqs(reader.events)))
        assert created_seqs(reader.events) == sorted(created_seqs(reader.events))


def test_no_gateway_subscribes_to_another_tenants_channels(
        on_broker: Fleet, redis_server: RedisServer) -> None:  # noqa: F811
    server = redis_server
    with httpx.Client(base_url=on_broker.url(0), timeout=30) as c:
        alice, mallory = new_user(c, "alice"), new_user(c, "mallory")
        tenant_a, tenant_m = new_tenant(c, alice, "A"), new_tenant(c, mallory, "M")
        secret = new_thread(c, alice, tenant_a)
        mine = new_thread(c, mallory, tenant_m)
        for i in range(2):
            base = on_broker.url(i)
            # Mallory names Alice's thread under her own tenant (not found there), and under Alice's (not a member).
            r = c.get(f"{base}/sse/chat/{secret}", headers=mallory.in_tenant(tenant_m))
            assert r.status_code == 404, r.text
            r = c.get(f"{base}/sse/chat/{secret}", headers=mallory.in_tenant(tenant_a))
            assert r.status_code in (401, 403), r.text
    assert not [ch for ch in _channels(server) if tenant_a in ch]  # nothing subscribed for tenant A
    with httpx.Client(base_url=on_broker.url(1), timeout=30) as c1:
        reader = SseReader(c1, f"/sse/chat/{mine}?since=0", mallory.in_tenant(tenant_m))
        # A hint forged on Mallory's channel naming Alice's thread makes her feed read her own thread only.
        client = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=2)
        client.publish(f"studio:{tenant_m}:dev:chat:{mine}", json.dumps({"tenant": tenant_a, "thread": secret, "seq": 1}))
        client.close()
        post_message(on_broker.url(0), alice, tenant_a, secret, "for alice only")
        seq = post_message(on_broker.url(0), mallory, tenant_m, mine, "mallory's own")
        reader.wait_for(lambda evs: seq in created_seqs(evs), timeout=30)
        reader.close()
    assert {e.data.get("thread_id") for e in reader.events if e.event.startswith("message.")} == {mine}
    assert [ch for ch in _channels(server) if tenant_a in ch] == []
    # The last client gone, its gateway leaves the thread's channel.
    deadline = time.monotonic() + 10
    while f"studio:{tenant_m}:dev:chat:{mine}" in _channels(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"studio:{tenant_m}:dev:chat:{mine}" not in _channels(server)


def test_presence_on_broker_keys_and_a_killed_instance_expires(
        on_broker: Fleet, redis_server: RedisServer) -> None:  # noqa: F811
    room = new_room(on_broker.url(0), "Broker presence")
    owner, friend, tenant, thread_id = room.owner, room.friend, room.tenant, room.thread_id
    with ExitStack() as stack:
        a, _ = on_broker.meet_across(room, stack)
        # Presence is a broker key per thread: each instance's members, scored by their expiry.
        client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=2)
        key = f"studio:{tenant}:dev:presence:{thread_id}"
        deadline = time.monotonic() + 5
        while len(client.zrange(key, 0, -1)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        members = sorted(m.decode().split("|", 1)[1] for m in client.zrange(key, 0, -1))
        assert members == sorted([owner.user_id, friend.user_id])
        on_broker.assert_both_present_on(1, room)
        on_broker.assert_killed_user_leaves(a, room)
        members = [m.decode().split("|", 1)[1] for m in client.zrangebyscore(key, int(time.time() * 1000), "+inf")]
        assert members == [owner.user_id]
        client.close()

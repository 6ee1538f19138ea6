"""Broker hints that carry the event (decision 0106), on a real SQLite store and a real redis-server.

A feed whose cursor is just before a hinted position delivers from the hint, with no store read,
exactly the event a store read derives; a duplicate is dropped; a gap (two writers' hints out of
order, a lost publish) or a bare hint (over the bound) reads the store from the cursor, and a hint
naming another tenant or thread than its channel's is refused and counted. The reads are counted
by the feeds' own counters (``BrokerFeeds.full_reads``/``chunk_reads``), which every store read of
a broker feed goes through."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from studio.chat import paths
from studio.chat.hints import MAX_PAYLOAD_BYTES, ThreadHints
from studio.chat.messages import MessageService
from studio.ports.broker import thread_channel
from studio.realtime import events as ev
from studio.realtime.broker_feed import BrokerThreadFeed
from studio.realtime.cursor import FINAL, Cursor
from studio.realtime.feed import ThreadFeed
from studio.wiring import chat_channel
from tests.support.api import new_tenant, new_user
from tests.support.broker_chat import ChatOnBroker, Sink, chat_on_broker, loop  # noqa: F401 - the fixture
from tests.support.gateway_fleet import (
    Fleet,
    created_seqs,
    health,
    new_thread,
    on_broker,  # noqa: F401 - the fixture
    owned_thread,
    post_message,
)
from tests.support.realtime_clients import SseEvent, SseReader
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow
T, ENV = "t_feed", "dev"


def _as_stored(chat: ChatOnBroker) -> list[tuple[str, int, int, int, dict[str, object]]]:
    """Every event of the thread as a store read from the start derives it (what resume serves)."""
    events = ev.backfill(chat.store, chat_channel(), T, ENV, chat.thread_id, Cursor(0))
    return [(e.type, e.seq, e.k, e.epoch, e.data) for e in events]


def _seen(sink: Sink) -> list[tuple[str, int, int, int, dict[str, object]]]:
    return [(e.type, e.seq, e.k, e.epoch, e.data) for e in sink.events]


def _by_message(seen: list[tuple[str, int, int, int, dict[str, object]]]) -> dict[int, list[tuple[str, int, int, int, dict[str, object]]]]:
    groups: dict[int, list[tuple[str, int, int, int, dict[str, object]]]] = {}
    for event in seen:
        groups.setdefault(event[1], []).append(event)
    return groups


def _settled(feed: BrokerThreadFeed, timeout: float = 5) -> None:
    """Wait until the feed runs no read (a hint arriving during one folds into another read)."""
    deadline = time.monotonic() + timeout
    while feed.reading:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def _reads(chat: ChatOnBroker) -> int:
    return chat.hub.full_reads + chat.hub.chunk_reads


def test_hints_deliver_exactly_what_the_stores_changes_derive_with_no_read(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    """The reference is the listener feed (feed.py) on the same store: it derives each event from the
    store's change of that document at that moment. (A backfill after the reply ended derives its
    start from the finished document, so only the listener is the same event at the same time.)"""
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        messages, thread_id = chat.messages, chat.thread_id
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        listener = ThreadFeed(chat.store, chat_channel(), (T, ENV, thread_id), loop)
        reference = Sink()
        listener.subscribers.add(reference)  # type: ignore[arg-type] - the sink takes a Subscriber's place
        user = messages.post_user(T, ENV, thread_id, "u_1", "hello ✓ «quoted»", "c-1", "muse")
        reply = messages.start_reply(T, ENV, thread_id, "muse", user["seq"])
        later = messages.post_user(T, ENV, thread_id, "u_1", "while it streams", None, "muse")  # above the reply
        for n in range(1, 4):
            messages.append_chunk(T, ENV, thread_id, reply["seq"], n, f"part {n} ")
        messages.finish(T, ENV, thread_id, reply["seq"], text="part 1 part 2 part 3 ", chunks=3,
                        metadata={"influence_cards": [{"id": "c_1", "title": "a card", "score": 0.5}]})
        sink.wait_for(lambda evs: len(evs) == 7)
        reference.wait_for(lambda evs: len(evs) == 7)
        assert _reads(chat) == 0  # seven events, not one store read
        assert chat.hub.hints.delivered == 7 and chat.hub.hints.gap == 0
        # Field for field, each message's events in the same order. Not one order across messages: the
        # listener watches messages and chunks with separate listeners, so it may put the reply's first
        # delta before or after the later message; the broker delivers in commit order (next line).
        assert _by_message(_seen(sink)) == _by_message(_seen(reference))
        assert [e.seq for e in sink.events].index(later["seq"]) == 2
        # The messages that were whole at birth are what resume serves too.
        whole = {user["seq"], later["seq"]}
        assert [e for e in _seen(sink) if e[1] in whole] == [e for e in _as_stored(chat) if e[1] in whole]
        # A failed end goes bare (its chunk count cannot be trusted): one read delivers it.
        user2 = messages.post_user(T, ENV, thread_id, "u_1", "again", None, "muse")
        failing = messages.start_reply(T, ENV, thread_id, "muse", user2["seq"])
        messages.append_chunk(T, ENV, thread_id, failing["seq"], 1, "half")
        messages.finish(T, ENV, thread_id, failing["seq"], text="half", chunks=0, error="interrupted; retried")
        sink.wait_for(lambda evs: evs[-1].type == ev.FAILED)
        reference.wait_for(lambda evs: len(evs) == 11)
        assert chat.hub.hints.bare == 1 and _reads(chat) == 1
        assert _by_message(_seen(sink)) == _by_message(_seen(reference))
        assert feed.cursor.floor == failing["seq"] and feed.cursor.states == {}
        listener.close()
        feed.close()


def test_a_feed_opened_mid_reply_takes_the_rest_of_it_from_hints(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    """The start cursor holds the streaming reply below its floor with its chunk position beside it:
    its next deltas and its end are the next positions, delivered from their hints, then forgotten."""
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        messages, thread_id = chat.messages, chat.thread_id
        user = messages.post_user(T, ENV, thread_id, "u_1", "hello", None, "muse")
        reply = messages.start_reply(T, ENV, thread_id, "muse", user["seq"])
        messages.append_chunk(T, ENV, thread_id, reply["seq"], 1, "part 1 ")
        feed = chat.feed(loop)
        assert feed.cursor.floor == reply["seq"] and feed.cursor.states == {reply["seq"]: 1}
        sink = Sink.on(feed)
        for n in (2, 3):
            messages.append_chunk(T, ENV, thread_id, reply["seq"], n, f"part {n} ")
        messages.finish(T, ENV, thread_id, reply["seq"], text="part 1 part 2 part 3 ", chunks=3)
        after = messages.post_user(T, ENV, thread_id, "u_1", "next", None, "muse")
        sink.wait_for(lambda evs: len(evs) == 4)
        assert [(e.type, e.seq, e.k) for e in sink.events] == [
            (ev.DELTA, reply["seq"], 2), (ev.DELTA, reply["seq"], 3), (ev.COMPLETED, reply["seq"], FINAL),
            (ev.CREATED, after["seq"], FINAL)]
        assert _reads(chat) == 0 and chat.hub.hints.delivered == 4
        assert feed.cursor.floor == after["seq"] and feed.cursor.states == {}
        stored = _as_stored(chat)  # the end and the next message as resume serves them
        assert _seen(sink)[2:] == [e for e in stored if e[2] == FINAL and e[1] >= reply["seq"]]
        feed.close()


def test_two_writers_out_of_order_read_the_gap_once_and_drop_the_duplicate(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        store, messages, thread_id, hub = chat.store, chat.messages, chat.thread_id, chat.hub
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        # Writer A commits seq 1 and is slow to publish; writer B commits seq 2 and publishes first.
        slow = MessageService(store, ThreadHints(None))
        first = slow.post_user(T, ENV, thread_id, "u_a", "from A", None, "muse")
        second = messages.post_user(T, ENV, thread_id, "u_b", "from B", None, "muse")
        sink.wait_for(lambda evs: [e.seq for e in evs] == [first["seq"], second["seq"]])
        _settled(feed)
        assert hub.hints.gap == 1 and hub.full_reads == 1  # the gap read the store from the cursor
        # A's hint arrives now: a duplicate, dropped.
        doc = store.get(paths.message(T, ENV, thread_id, first["seq"]))
        assert doc is not None
        chat.hints.moved(T, ENV, thread_id, first["seq"], msg=doc.data)
        third = messages.post_user(T, ENV, thread_id, "u_b", "after", None, "muse")  # its hint follows A's
        sink.wait_for(lambda evs: evs[-1].seq == third["seq"])
        assert hub.hints.duplicate == 1 and hub.full_reads == 1  # the third came from its hint
        # Two writers at full speed on two connections: every message once, in order.
        writers = [MessageService(store, ThreadHints(chat.hub.broker)) for _ in range(2)]

        def write(service: MessageService, who: str) -> None:
            for i in range(40):
                service.post_user(T, ENV, thread_id, who, f"{who} {i}", None, "muse")

        threads = [threading.Thread(target=write, args=(w, f"u_{i}")) for i, w in enumerate(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sink.wait_for(lambda evs: len(evs) == 83, timeout=20)
        assert [e.seq for e in sink.events] == list(range(1, 84))
        assert _seen(sink) == _as_stored(chat)
        # In-order hints were delivered from their payloads; out-of-order ones cost a read, never a loss.
        assert hub.hints.delivered > 0 and hub.full_reads < 80, (hub.hints, hub.full_reads)
        feed.close()


def test_a_bare_hint_over_the_bound_and_a_lost_publish_still_deliver(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        messages, thread_id, hub = chat.messages, chat.thread_id, chat.hub
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        big = "€" * (MAX_PAYLOAD_BYTES // 3 + 10)  # three bytes each in UTF-8: just over the bound
        posted = messages.post_user(T, ENV, thread_id, "u_1", big, None, "muse")
        sink.wait_for(lambda evs: [e.seq for e in evs] == [posted["seq"]])
        assert chat.hints.bare_over_bound == 1 and hub.hints.bare == 1 and hub.full_reads == 1
        assert sink.events[0].data["text"] == big
        # A value JSON cannot hold never fails the write path: that hint goes bare too (a read, nothing new).
        _settled(feed)
        chat.hints.moved(T, ENV, thread_id, posted["seq"], msg={"seq": posted["seq"], "odd": {1, 2}})
        deadline = time.monotonic() + 5
        while hub.hints.bare < 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        _settled(feed)
        assert len(sink.events) == 1
        # The broker is down between the commit and the publish: the write succeeds, the hint is lost.
        redis_server.kill()
        lost = messages.post_user(T, ENV, thread_id, "u_1", "while the broker is down", None, "muse")
        failed_at = time.monotonic()
        redis_server.start()  # the feed's connection comes back: RESYNC, a read from the cursor
        sink.wait_for(lambda evs: evs[-1].seq == lost["seq"], timeout=20)
        time.sleep(max(0.0, failed_at + 1.2 - time.monotonic()))  # past the publisher's 1 s circuit breaker
        _settled(feed)
        after = messages.post_user(T, ENV, thread_id, "u_1", "after", None, "muse")
        sink.wait_for(lambda evs: evs[-1].seq == after["seq"], timeout=10)
        assert [e.seq for e in sink.events] == [posted["seq"], lost["seq"], after["seq"]]
        assert _seen(sink) == _as_stored(chat)
        feed.close()


def test_a_lost_publish_is_delivered_by_the_safety_poll(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=0.5) as chat:
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        silent = MessageService(chat.store, ThreadHints(None))  # a commit whose publish never happens
        posted = silent.post_user(T, ENV, chat.thread_id, "u_1", "unhinted", None, "muse")
        sink.wait_for(lambda evs: [e.seq for e in evs] == [posted["seq"]], timeout=5)
        assert _seen(sink) == _as_stored(chat)
        feed.close()


def test_a_forged_payload_naming_another_tenant_or_thread_is_refused_and_counted(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        channel = thread_channel("chat", T, ENV, chat.thread_id)
        forged_msg = {"id": "m_forged", "seq": 1, "epoch": 0, "role": "user", "author": "mallory",
                      "text": "not yours", "status": "complete"}
        client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=2)
        try:
            for tenant, thread in (("t_other", chat.thread_id), (T, "th_other"), ("t_other", "th_other")):
                client.publish(channel, json.dumps({"tenant": tenant, "thread": thread, "seq": 1, "msg": forged_msg}))
        finally:
            client.close()
        posted = chat.messages.post_user(T, ENV, chat.thread_id, "u_1", "mine", None, "muse")
        sink.wait_for(lambda evs: len(evs) == 1)
        assert chat.hub.hints.refused == 3
        assert _seen(sink) == _as_stored(chat) and sink.events[0].data["text"] == "mine"
        assert posted["seq"] == 1 and _reads(chat) == 0  # the forgeries neither delivered nor read
        feed.close()


def test_a_malformed_payload_reads_the_store_instead(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        posted = MessageService(chat.store, ThreadHints(None)).post_user(T, ENV, chat.thread_id, "u_1", "real",
                                                                          None, "muse")
        client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=2)
        try:  # the right channel and names, a payload that is not a message: never delivered as one
            client.publish(thread_channel("chat", T, ENV, chat.thread_id),
                           json.dumps({"tenant": T, "thread": chat.thread_id, "seq": 1, "msg": {"seq": "1"}}))
            for hostile in (b"[" * 100_000, b"not json", b"[1, 2]", json.dumps(
                    {"tenant": T, "thread": chat.thread_id, "seq": float("nan"), "text": "x", "k": 1}).encode()):
                client.publish(thread_channel("chat", T, ENV, chat.thread_id), hostile)
        finally:
            client.close()
        sink.wait_for(lambda evs: len(evs) == 1 and chat.hub.hints.malformed == 5)
        _settled(feed)
        assert chat.hub.full_reads >= 1 and len(sink.events) == 1  # read from the store, once
        assert sink.events[0].data["text"] == "real" and sink.events[0].k == FINAL and posted["seq"] == 1
        feed.close()


# -- two gateway processes on the broker (the runtime as `make serve` runs it) -------------------------


def _store_reads(health: dict[str, Any]) -> int:
    reads = health["broker_feed_reads"]
    return int(reads["full"]) + int(reads["chunks"])


def _replied(events: list[SseEvent], seqs: list[int]) -> bool:
    """Each user message in ``seqs`` has its agent reply complete on this stream."""
    replies = [e.data["data"].get("reply_to") for e in events if e.event == "message.completed"]
    return all(s in replies for s in seqs)


def test_a_message_reaches_both_gateways_with_no_store_read(on_broker: Fleet) -> None:  # noqa: F811
    owner, tenant, thread_id = owned_thread(on_broker, "Payload")
    headers = owner.in_tenant(tenant)
    with httpx.Client(base_url=on_broker.url(0), timeout=30) as c0, \
            httpx.Client(base_url=on_broker.url(1), timeout=30) as c1:
        readers = [SseReader(c0, f"/sse/chat/{thread_id}?since=0", headers),
                   SseReader(c1, f"/sse/chat/{thread_id}?since=0", headers)]
        first = post_message(on_broker.url(0), owner, tenant, thread_id, "warm up")
        for reader in readers:  # both feeds open and through one exchange
            reader.wait_for(lambda evs: _replied(evs, [first]), timeout=30)
        before = [health(on_broker.url(i)) for i in range(2)]
        seqs = []
        for i in range(4):  # one at a time: each user message, then its streamed reply, on both processes
            seqs.append(post_message(on_broker.url(i % 2), owner, tenant, thread_id, f"message {i} ✓"))
            for reader in readers:
                reader.wait_for(lambda evs: _replied(evs, seqs), timeout=30)
        after = [health(on_broker.url(i)) for i in range(2)]
        # A message over the bound (32,000 three-byte characters): its hint goes bare, each process reads it.
        big = post_message(on_broker.url(1), owner, tenant, thread_id, "€" * 32_000)
        for reader in readers:
            reader.wait_for(lambda evs: big in created_seqs(evs), timeout=30)
        bare = [health(on_broker.url(i)) for i in range(2)]
        for reader in readers:
            reader.close()
    for b, a, c in zip(before, after, bare, strict=True):
        assert _store_reads(a) == _store_reads(b), (b, a)  # delivered from the hints, not one store read
        # each message, its reply's start, at least one delta and its end: from the hints' payloads
        assert a["broker_hints"]["delivered"] - b["broker_hints"]["delivered"] >= 4 * 4
        assert c["broker_hints"]["bare"] > a["broker_hints"]["bare"] and _store_reads(c) > _store_reads(a)
    assert [e.data["data"]["text"] for e in readers[1].events if e.event == "message.created"
            and e.data["seq"] == big] == ["€" * 32_000]
    # The same events on both processes (up to the big message: its reply may still be streaming)
    events0 = [(e.event, e.data) for e in readers[0].events if e.event.startswith("message.") and e.data["seq"] <= big]
    events1 = [(e.event, e.data) for e in readers[1].events if e.event.startswith("message.") and e.data["seq"] <= big]
    assert events0 == events1 and set(seqs) <= set(created_seqs(readers[0].events))


def test_two_concurrent_writers_on_two_processes_deliver_every_message_once_in_order(
        on_broker: Fleet) -> None:  # noqa: F811
    owner, tenant, thread_id = owned_thread(on_broker, "Writers")
    headers = owner.in_tenant(tenant)
    posted: list[list[int]] = [[], []]

    def write(index: int) -> None:
        for i in range(8):
            posted[index].append(post_message(on_broker.url(index), owner, tenant, thread_id, f"w{index} {i}"))

    with httpx.Client(base_url=on_broker.url(0), timeout=30) as c0, \
            httpx.Client(base_url=on_broker.url(1), timeout=30) as c1:
        readers = [SseReader(c0, f"/sse/chat/{thread_id}?since=0", headers),
                   SseReader(c1, f"/sse/chat/{thread_id}?since=0", headers)]
        writers = [threading.Thread(target=write, args=(i,)) for i in range(2)]
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        every = sorted(posted[0] + posted[1])
        for reader in readers:
            reader.wait_for(lambda evs: _replied(evs, every), timeout=60)
        states = [health(on_broker.url(i)) for i in range(2)]
        for reader in readers:
            reader.close()
    positions = []
    for reader in readers:
        # every message (user and reply) exactly once, in seq order, each reply's deltas in order
        created = created_seqs(reader.events)
        assert created == sorted(set(created)) and set(every) <= set(created)
        seen = [(e.data["seq"], e.data["data"].get("n", 0), e.event) for e in reader.events
                if e.event.startswith("message.")]
        assert len(seen) == len(set(seen))
        positions.append([(e.event, e.data) for e in reader.events if e.event.startswith("message.")])
    assert positions[0] == positions[1]
    for h in states:  # the hints carried most events; any gap was read, never lost
        assert h["broker_hints"]["delivered"] > 0


def test_a_forged_payload_for_another_tenant_is_refused_and_counted(
        on_broker: Fleet, redis_server: RedisServer) -> None:  # noqa: F811
    with httpx.Client(base_url=on_broker.url(0), timeout=30) as c:
        alice, mallory = new_user(c, "alice"), new_user(c, "mallory")
        tenant_a, tenant_m = new_tenant(c, alice, "A"), new_tenant(c, mallory, "M")
        secret = new_thread(c, alice, tenant_a)
        mine = new_thread(c, mallory, tenant_m)
    with httpx.Client(base_url=on_broker.url(1), timeout=30) as c1:
        reader = SseReader(c1, f"/sse/chat/{mine}?since=0", mallory.in_tenant(tenant_m))
        before = health(on_broker.url(1))["broker_hints"]["refused"]
        forged = {"id": "m_forged", "seq": 1, "epoch": 1, "role": "user", "author": "alice", "text": "alice's secret",
                  "status": "complete"}
        client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=2)
        try:  # Mallory's channel, a payload naming Alice's tenant and thread
            client.publish(f"studio:{tenant_m}:dev:chat:{mine}",
                           json.dumps({"tenant": tenant_a, "thread": secret, "seq": 1, "msg": forged}))
        finally:
            client.close()
        seq = post_message(on_broker.url(0), mallory, tenant_m, mine, "mallory's own")
        reader.wait_for(lambda evs: seq in created_seqs(evs), timeout=30)
        refused = health(on_broker.url(1))["broker_hints"]["refused"]
        reader.close()
    assert refused == before + 1
    texts = [e.data["data"].get("text") for e in reader.events if e.event == "message.created"]
    assert "alice's secret" not in texts and "mallory's own" in texts
    assert {e.data.get("thread_id") for e in reader.events if e.event.startswith("message.")} == {mine}

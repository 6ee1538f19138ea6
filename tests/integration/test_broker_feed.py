"""One broker feed against a real SQLite store and a real redis-server: chat's own write path
(MessageService, ThreadService with hints) wakes it; a streaming reply arrives whole and in order,
from the hints' payloads with no store read (decision 0106); a write whose hint was lost arrives by
the safety poll; a thread's deletion ends it with an epoch change."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from studio.chat import paths
from studio.chat.messages import MessageService
from studio.realtime import events as ev
from studio.realtime.cursor import FINAL
from tests.support.broker_chat import Sink, chat_on_broker, loop  # noqa: F401 - the fixture
from tests.support.redis_server import RedisServer, redis_server  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def test_a_broker_feed_follows_chats_writes(tmp_path: Path, redis_server: RedisServer,  # noqa: F811
                                            loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=0.5) as chat:
        store, hub, threads, messages, thread_id = chat.store, chat.hub, chat.threads, chat.messages, chat.thread_id
        feed = chat.feed(loop)
        sink = Sink.on(feed)
        user = messages.post_user("t_feed", "dev", thread_id, "u_1", "hello", None, "muse")
        reply = messages.start_reply("t_feed", "dev", thread_id, "muse", user["seq"])
        sink.wait_for(lambda evs: [(e.seq, e.k) for e in evs] == [(user["seq"], FINAL), (reply["seq"], 0)])
        full_reads = hub.full_reads
        for n in range(1, 6):
            messages.append_chunk("t_feed", "dev", thread_id, reply["seq"], n, f"part {n} ")
        sink.wait_for(lambda evs: [e.k for e in evs if e.type == ev.DELTA] == [1, 2, 3, 4, 5])
        assert hub.full_reads == full_reads  # chunk hints never read the whole thread
        assert hub.chunk_reads == 0  # each chunk's hint carried its text: delivered with no read (0106)
        assert hub.hints.delivered >= 5
        messages.finish("t_feed", "dev", thread_id, reply["seq"], text="done", chunks=5)
        sink.wait_for(lambda evs: evs[-1].type == ev.COMPLETED and evs[-1].seq == reply["seq"])
        # A hint lost (a write by a path that published none): the safety poll reads it within 0.5 s.
        silent = MessageService(store).post_user("t_feed", "dev", thread_id, "u_1", "no hint", None, "muse")
        started = time.monotonic()
        sink.wait_for(lambda evs: evs[-1].seq == silent["seq"], timeout=5)
        assert time.monotonic() - started < 2.0
        # Nothing twice, everything in position order.
        positions = [(e.seq, e.k) for e in sink.events]
        assert positions == sorted(set(positions))
        # Deleting the thread moves its epoch: the feed says so and its clients reload.
        threads.delete(chat.ctx, thread_id, store.get(f"tenants/t_feed/envs/dev/threads/{thread_id}").rev)  # type: ignore[union-attr]
        sink.wait_for(lambda evs: evs[-1].type == ev.EPOCH_CHANGED and evs[-1].data["deleted"] is True)
        feed.close()


def test_a_feed_opened_while_the_last_message_streams_delivers_its_end(
        tmp_path: Path, redis_server: RedisServer, loop: asyncio.AbstractEventLoop) -> None:  # noqa: F811
    """The feed's start cursor puts a reply that is streaming at the counter below its floor, with
    its chunk position beside it: a full read (the finish's hint, a hint during opening, the poll)
    must still read that reply, else its remaining deltas and its end never arrive (safety poll
    off here, as in a deployment between polls)."""
    with chat_on_broker(tmp_path, redis_server.url, safety_poll_s=3600) as chat:
        store, messages, thread_id = chat.store, chat.messages, chat.thread_id
        user = messages.post_user("t_feed", "dev", thread_id, "u_1", "hello", None, "muse")
        reply = messages.start_reply("t_feed", "dev", thread_id, "muse", user["seq"])
        messages.append_chunk("t_feed", "dev", thread_id, reply["seq"], 1, "part 1 ")
        feed = chat.feed(loop)
        assert feed.cursor.floor == reply["seq"] and feed.cursor.states == {reply["seq"]: 1}
        sink = Sink.on(feed)
        feed.wake()  # a full read now (as a hint during opening or the poll would ask): delta 2 is due
        messages.append_chunk("t_feed", "dev", thread_id, reply["seq"], 2, "part 2 ")
        sink.wait_for(lambda evs: [(e.seq, e.k) for e in evs] == [(reply["seq"], 2)])
        # Two chunks land before their hints are read, then the end: the finish's hint is a full read.
        store.put(paths.chunk("t_feed", "dev", thread_id, reply["seq"], 3), {"n": 3, "text": "part 3 ", "created_at": "x"},
                  expected_rev=0)  # written by a path that published no hint
        messages.finish("t_feed", "dev", thread_id, reply["seq"], text="part 1 part 2 part 3 ", chunks=3)
        sink.wait_for(lambda evs: [(e.seq, e.k) for e in evs][-2:] == [(reply["seq"], 3), (reply["seq"], FINAL)])
        assert feed.cursor.states == {}  # final below the floor: forgotten
        feed.close()

"""One chat thread on a real SQLite store whose writes hint a real redis-server, and a broker feed's
fan-out collected in order (a ``Sink`` in a Subscriber's place): what the broker feed tests share."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from studio.adapters.redis_broker import RedisBroker
from studio.adapters.sqlite_store import SqliteStore
from studio.chat.hints import ThreadHints
from studio.chat.messages import MessageService
from studio.chat.threads import ThreadService
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.realtime import events as ev
from studio.realtime.broker_feed import BrokerFeeds, BrokerThreadFeed
from studio.wiring import chat_channel


class Sink:
    """Where the feed's fan-out lands (the place of a Subscriber): every event, in order."""

    def __init__(self) -> None:
        self.events: list[ev.ThreadEvent] = []

    @classmethod
    def on(cls, feed: BrokerThreadFeed) -> Sink:
        sink = cls()
        feed.subscribers.add(sink)  # type: ignore[arg-type] - the sink takes a Subscriber's place
        return sink

    def offer(self, event: ev.ThreadEvent) -> None:
        self.events.append(event)

    def wait_for(self, predicate, timeout: float = 10) -> None:  # noqa: ANN001 - an events predicate
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            assert time.monotonic() < deadline, [(e.type, e.seq, e.k) for e in self.events]
            time.sleep(0.01)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.call_soon_threadsafe(running.stop)
    thread.join(timeout=5)
    running.close()


@dataclass
class ChatOnBroker:
    """Chat's own services on a SQLite store, their hints on the broker; one thread, and its feeds' hub."""

    store: SqliteStore
    hub: BrokerFeeds
    threads: ThreadService
    messages: MessageService
    hints: ThreadHints
    ctx: RequestContext
    thread_id: str

    def feed(self, loop: asyncio.AbstractEventLoop) -> BrokerThreadFeed:
        return BrokerThreadFeed(self.hub, chat_channel(), ("t_feed", "dev", self.thread_id), loop)


@contextmanager
def chat_on_broker(tmp_path: Path, broker_url: str, safety_poll_s: float) -> Iterator[ChatOnBroker]:
    store = SqliteStore(tmp_path / "store.db")
    broker = RedisBroker(broker_url)
    hub = BrokerFeeds(broker, store, safety_poll_s=safety_poll_s)
    try:
        hints = ThreadHints(broker)
        threads, messages = ThreadService(store, hints), MessageService(store, hints)
        ctx = RequestContext("t_feed", "dev", Principal("u_1"), Role.OWNER)
        yield ChatOnBroker(store, hub, threads, messages, hints, ctx, threads.create(ctx, "broker", "muse")["id"])
    finally:
        hub.close()
        broker.close()

"""One live feed per thread per gateway process, shared by all its subscribers.

A feed listens on the store (the thread's messages, the chunks of each reply while it
streams, and the thread document for epoch changes), turns changes into ThreadEvents and
hands each event once to the event loop, which offers it to every subscriber (written to
the socket there and then, see subscriber.py): 1,000 subscribers cost one cross-thread
hop, not 1,000.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Protocol

from studio.ports.store import Change, DocumentStore
from studio.realtime import events as ev
from studio.realtime.channels import ThreadChannel
from studio.realtime.cursor import FINAL
from studio.realtime.subscriber import Subscriber

Key = tuple[str, str, str]


class Feed(Protocol):
    """What the endpoints hold of a feed: the listener one below, or the broker's (broker_feed.py)."""

    subscribers: set[Subscriber]
    epoch: int

    def close(self) -> None: ...


# (channel, key, loop) -> a new open feed. Blocking: it waits for its source (listeners, a subscription).
OpenFeed = Callable[[ThreadChannel, Key, asyncio.AbstractEventLoop], Feed]


class ThreadFeed:
    def __init__(self, store: DocumentStore, channel: ThreadChannel, key: Key, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._channel = channel
        self.tenant_id, self.env, self.thread_id = key
        self._loop = loop
        self.subscribers: set[Subscriber] = set()
        self._lock = threading.RLock()
        self._last_k: dict[int, int] = {}  # streaming replies: the last delta handed out
        self._chunk_watches: dict[int, Any] = {}
        thread = store.get(channel.thread(*key))
        self.epoch = int(thread.data["epoch"]) if thread else 0
        self._watches: list[Any] = []
        try:
            self._watches.append(store.watch(channel.messages(*key), self._on_message))
            self._watches.append(store.watch(channel.threads(self.tenant_id, self.env), self._on_thread))
        except BaseException:
            self.close()  # no half-open feed keeps listening
            raise

    # -- from the store's listener threads ------------------------------------
    def _emit(self, event: ev.ThreadEvent) -> None:
        self._loop.call_soon_threadsafe(self._fan_out, event)

    def _fan_out(self, event: ev.ThreadEvent) -> None:  # on the event loop
        for subscriber in list(self.subscribers):
            subscriber.offer(event)

    def _on_thread(self, change: Change) -> None:
        if change.path.rsplit("/", 1)[-1] != self.thread_id or change.data is None:
            return
        epoch = int(change.data.get("epoch", self.epoch))
        if epoch != self.epoch or change.data.get("deleted"):
            self.epoch = epoch
            self._emit(ev.ThreadEvent(ev.EPOCH_CHANGED, self.thread_id, 0, 0, epoch,
                                      {"epoch": epoch, "deleted": bool(change.data.get("deleted"))}))

    def _on_message(self, change: Change) -> None:
        event = ev.from_message_change(self._channel, self.thread_id, change)
        if event is None:
            return
        with self._lock:
            if event.k == 0:  # a reply starts streaming: follow its chunks
                self._emit(event)
                self._last_k[event.seq] = 0
                self._follow_chunks(event.seq, event.epoch)
                return
            if event.seq in self._last_k:  # a reply ends: first every delta not yet handed out
                self._catch_up(event.seq, event.epoch)
                watch = self._chunk_watches.pop(event.seq, None)
                if watch is not None:
                    watch.close()
                self._last_k.pop(event.seq, None)
            self._emit(event)

    def _follow_chunks(self, seq: int, epoch: int) -> None:
        collection = self._channel.chunks(self.tenant_id, self.env, self.thread_id, seq)
        self._chunk_watches[seq] = self._store.watch(collection, lambda c: self._on_chunk(seq, epoch, c))
        self._catch_up(seq, epoch)  # chunks written before the listener started

    def _on_chunk(self, seq: int, epoch: int, change: Change) -> None:
        event = ev.from_chunk_change(self.thread_id, seq, epoch, change)
        with self._lock:
            if event is None or seq not in self._last_k or event.k <= self._last_k[seq]:
                return
            if event.k > self._last_k[seq] + 1:  # a gap (listeners race): fill it from the store
                self._catch_up(seq, epoch)
            if event.k > self._last_k[seq]:
                self._last_k[seq] = event.k
                self._emit(event)

    def _catch_up(self, seq: int, epoch: int) -> None:
        after = self._last_k.get(seq, 0)
        for chunk in ev.load_chunks(self._store, self._channel, self.tenant_id, self.env, self.thread_id, seq, after):
            n = int(chunk["n"])
            if n > self._last_k.get(seq, 0) and n < FINAL:
                self._last_k[seq] = n
                self._emit(ev.ThreadEvent(ev.DELTA, self.thread_id, seq, n, epoch, {"n": n, "text": chunk["text"]}))

    def close(self) -> None:
        for watch in [*self._watches, *self._chunk_watches.values()]:
            watch.close()
        self._chunk_watches.clear()


class FeedRegistry:
    """Feeds by thread, opened on the first subscriber and closed after the last. ``open_feed``
    chooses the source (the gateway state passes the broker's when one is configured)."""

    def __init__(self, store: DocumentStore, channel: ThreadChannel, open_feed: OpenFeed | None = None) -> None:
        self._store = store
        self._channel = channel
        self._open: OpenFeed = open_feed or (lambda ch, key, loop: ThreadFeed(store, ch, key, loop))
        self._feeds: dict[Key, Feed] = {}
        self._lock = threading.Lock()

    def subscribe(self, key: Key, subscriber: Subscriber,
                  loop: asyncio.AbstractEventLoop) -> tuple[Feed, Callable[[], None]]:
        """Blocking (opening a feed waits for the store's listeners): call it off the event loop.
        The registry lock is never held while a feed opens, so one slow open stalls nobody else."""
        with self._lock:
            feed = self._feeds.get(key)
            if feed is not None:
                feed.subscribers.add(subscriber)
        if feed is None:
            fresh = self._open(self._channel, key, loop)
            with self._lock:
                feed = self._feeds.setdefault(key, fresh)
                feed.subscribers.add(subscriber)
            if feed is not fresh:
                fresh.close()  # another subscriber opened it meanwhile

        def unsubscribe() -> None:
            with self._lock:
                feed.subscribers.discard(subscriber)
                last = not feed.subscribers and self._feeds.get(key) is feed
                if last:
                    del self._feeds[key]
            if last:
                feed.close()  # outside the lock: closing listeners may wait on the store

        return feed, unsubscribe

    def open_feeds(self) -> int:
        return len(self._feeds)

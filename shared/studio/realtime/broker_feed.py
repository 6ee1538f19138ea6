"""A thread's live feed woken by its broker channel instead of store listeners (decisions 0075, 0106).

The chat write path publishes ``{tenant, thread, seq}`` on the thread's channel after each commit,
with what it committed (the message document, or a chunk's text) when that fits the bound. A feed
whose cursor is just before the hinted position derives the event from the hint with the function a
store read uses (``events.message_event``) and reads nothing: the steady state costs no store read.
Any other hint reads the store from the feed's own cursor (``events.backfill``, the derivation that
serves resume): a duplicate (at or below the cursor) is dropped, a gap (hints out of order from two
writers, a lost publish) or a bare hint reads, as do ``RESYNC`` and the safety poll. So a lost hint,
a duplicate or a broker failover never changes what clients see, only when.

Feeds of one process share a small pool of readers; a feed never reads twice at once, and hints
arriving while it reads fold into one more read. A hint is delivered from its payload only while no
read runs, under the feed's lock, so the cursor has one writer at a time and events leave in order.
"""
from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from studio.kernel import logs
from studio.ports.broker import RESYNC, Broker, thread_channel
from studio.ports.store import DocumentStore, Filter, Query
from studio.realtime import events as ev
from studio.realtime.channels import ThreadChannel
from studio.realtime.cursor import FINAL, Cursor
from studio.realtime.subscriber import Subscriber

Key = tuple[str, str, str]
_log = logs.get("studio.realtime.broker_feed")


@dataclass
class HintCounts:
    """What the hints of a process's feeds did (``/healthz/realtime``, decision 0106)."""

    delivered: int = 0  # events handed out from a hint's payload, no store read
    duplicate: int = 0  # payloads at or below the feed's cursor: dropped
    gap: int = 0  # payloads past the next position: the feed read the store instead
    bare: int = 0  # hints with no payload (over the bound, an epoch, an old writer): a read
    refused: int = 0  # hints naming another tenant or thread than their channel's: ignored
    malformed: int = 0  # payloads that are not a message or chunk as chat writes them: a read


class BrokerFeeds:
    """What a process's broker feeds share: the broker, the readers and the safety poll."""

    def __init__(self, broker: Broker, store: DocumentStore, *, safety_poll_s: float = 30.0,
                 readers: int = 4) -> None:
        self.broker = broker
        self.store = store
        self.safety_poll_s = safety_poll_s
        self.pool = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="broker-feed")
        self._feeds: set[BrokerThreadFeed] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.full_reads = 0  # reads of a thread from a cursor (messages, then chunks of open replies)
        self.chunk_reads = 0  # reads of one reply's next chunks
        self.hints = HintCounts()
        self._sweeper = threading.Thread(target=self._sweep, name="broker-feed-poll", daemon=True)
        self._sweeper.start()

    def add(self, feed: BrokerThreadFeed) -> None:
        with self._lock:
            self._feeds.add(feed)

    def discard(self, feed: BrokerThreadFeed) -> None:
        with self._lock:
            self._feeds.discard(feed)

    def _sweep(self) -> None:
        while not self._stop.wait(self.safety_poll_s):
            with self._lock:
                feeds = list(self._feeds)
            for feed in feeds:
                feed.wake(check_thread=True)

    def close(self) -> None:
        self._stop.set()
        self.pool.shutdown(wait=False, cancel_futures=True)


class BrokerThreadFeed:
    def __init__(self, hub: BrokerFeeds, channel: ThreadChannel, key: Key, loop: asyncio.AbstractEventLoop) -> None:
        self._hub = hub
        self._store = hub.store
        self._channel = channel
        self.tenant_id, self.env, self.thread_id = key
        self._loop = loop
        self.subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._reading = True  # until the start position is read: hints meanwhile only mark a read as due
        self._again = False
        self._check_thread = False
        self._full = False  # a read of the whole thread from the cursor is due (else only the chunks below)
        self._chunk_seqs: set[int] = set()  # replies whose next chunks were hinted
        self._closed = False
        # Subscribe first, then read where the thread is: a write after the read is hinted to us.
        self._sub = hub.broker.subscribe(thread_channel(channel.kind, *key), self._on_hint)
        try:
            thread = self._store.get(channel.thread(*key))
            self.epoch = int(thread.data["epoch"]) if thread else 0
            self.cursor = self._start_cursor()
        except BaseException:
            self._sub.close()
            raise
        hub.add(self)
        with self._lock:
            self._reading, due = False, self._again
        if due:  # hinted while opening: those writes may be after the start position
            self.wake()

    @property
    def reading(self) -> bool:
        """A store read runs or is due (hints meanwhile fold into it rather than deliver)."""
        with self._lock:
            return self._reading

    def _start_cursor(self) -> Cursor:
        """The thread now: every message up to the counter, and how far each streaming reply got."""
        key = (self.tenant_id, self.env, self.thread_id)
        counter = self._store.get(self._channel.counter(*key))
        cursor = Cursor(int(counter.data["last_seq"]) if counter else 0)
        streaming = self._store.query(Query(self._channel.messages(*key), [Filter("status", "==", "streaming")],
                                            [("seq", "asc")], 100)).docs
        for doc in streaming:
            seq = int(doc.data["seq"])
            chunks = ev.load_chunks(self._store, self._channel, *key, seq)
            cursor.states[seq] = max([int(c["n"]) for c in chunks], default=0)
        return cursor

    # -- hints, from the broker's reader thread ---------------------------------------
    def _on_hint(self, payload: bytes) -> None:
        counts = self._hub.hints
        if payload == RESYNC:
            self.wake(check_thread=True)
            return
        try:
            hint: dict[str, Any] = json.loads(payload)
            if hint.get("tenant") != self.tenant_id or hint.get("thread") != self.thread_id:
                counts.refused += 1
                return  # not this thread's: a publisher's bug or a forgery, never delivered, never a read
        except (ValueError, AttributeError, RecursionError):  # not JSON, not an object, nested too deep
            counts.malformed += 1
            return
        if "epoch" in hint:
            counts.bare += 1
            self.wake(check_thread=True)
            return
        seq, k = hint.get("seq"), hint.get("k")
        if "msg" in hint or "text" in hint:
            if self._deliver(hint):
                return
        else:
            counts.bare += 1
        if isinstance(seq, int) and isinstance(k, int) and 0 < k < FINAL:
            self.wake(chunk_of=seq)  # a reply's next chunk: read its chunks only, as a listener would
            return
        self.wake()  # duplicates and stale hints fold into reads that find nothing new

    def _deliver(self, hint: dict[str, Any]) -> bool:
        """Hand out the hint's event if it is the next one at the cursor (True), or drop it if the
        cursor has it (True); False when the store must be read: a gap, a read running, a bad payload."""
        counts = self._hub.hints
        event = self._hinted_event(hint)
        if event is None:
            counts.malformed += 1
            return False
        with self._lock:
            if self._reading or self._closed:
                return False  # the read under way (or the one due after it) finds it in the store
            cursor = self.cursor
            if cursor.seen(event.seq, event.k):
                counts.duplicate += 1
                return True
            if not self._next_at(cursor, event, hint):
                counts.gap += 1
                return False
            cursor.advance(event.seq, event.k)
            self._forget_final_below_floor()
            counts.delivered += 1  # before the event is out: whoever sees it sees it counted
            self._emit(event)
            return True

    def _hinted_event(self, hint: dict[str, Any]) -> ev.ThreadEvent | None:
        """The event the store read would produce for this write, or None if the payload is not one."""
        seq, msg, text = hint.get("seq"), hint.get("msg"), hint.get("text")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < FINAL:
            return None
        if isinstance(msg, dict):
            try:
                if msg.get("seq") != seq or not isinstance(msg.get("epoch"), int):
                    return None
                return ev.message_event(self._channel, self.thread_id, msg)
            except (KeyError, TypeError, ValueError):
                return None
        k = hint.get("k")
        if isinstance(text, str) and isinstance(k, int) and not isinstance(k, bool) and 0 < k < FINAL:
            return ev.ThreadEvent(ev.DELTA, self.thread_id, seq, k, self.epoch, {"n": k, "text": text})
        return None

    @staticmethod
    def _next_at(cursor: Cursor, event: ev.ThreadEvent, hint: dict[str, Any]) -> bool:
        """Whether ``event`` comes right after what ``cursor`` holds: a new message at the next seq, a
        reply's next delta, or its end once it has every delta (the end's document counts them)."""
        have = cursor.states.get(event.seq)
        if event.type == ev.DELTA:
            return have is not None and have == event.k - 1
        if event.type in (ev.COMPLETED, ev.FAILED):
            chunks = hint["msg"].get("chunks")
            return have is not None and have != FINAL and isinstance(chunks, int) and have == chunks
        # message.created: a user message (born final) or a reply's start, at the next seq
        return have is None and event.seq == max([cursor.floor, *cursor.states]) + 1

    def wake(self, *, check_thread: bool = False, chunk_of: int | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            self._check_thread = self._check_thread or check_thread
            if chunk_of is None:
                self._full = True
            else:
                self._chunk_seqs.add(chunk_of)
            if self._reading:
                self._again = True
                return
            self._reading = True
        try:
            self._hub.pool.submit(self._drain)
        except RuntimeError:  # the pool is shutting down (the process is stopping)
            with self._lock:
                self._reading = False

    def _drain(self) -> None:
        while True:
            with self._lock:
                check, self._check_thread, self._again = self._check_thread, False, False
                full, self._full = self._full, False
                chunk_seqs, self._chunk_seqs = self._chunk_seqs, set()
            try:
                if full or check:
                    self._read(check)
                else:
                    for seq in sorted(chunk_seqs):
                        self._read_chunks(seq)
            except Exception:  # noqa: BLE001 - the next hint or the safety poll reads again
                _log.exception("broker feed read failed")
            with self._lock:
                if not self._again or self._closed:
                    self._reading = False
                    return

    def _read(self, check_thread: bool) -> None:
        key = (self.tenant_id, self.env, self.thread_id)
        self._hub.full_reads += 1
        if check_thread:
            thread = self._store.get(self._channel.thread(*key))
            if thread is not None:
                epoch = int(thread.data.get("epoch", self.epoch))
                if epoch != self.epoch or thread.data.get("deleted"):
                    self.epoch = epoch
                    self._emit(ev.ThreadEvent(ev.EPOCH_CHANGED, self.thread_id, 0, 0, epoch,
                                              {"epoch": epoch, "deleted": bool(thread.data.get("deleted"))}))
        for event in ev.backfill(self._store, self._channel, *key, self.cursor):
            if self.cursor.advance(event.seq, event.k):
                self._emit(event)
        self._forget_final_below_floor()

    def _forget_final_below_floor(self) -> None:
        """Replies that were streaming when the feed opened sit below the floor: drop them once final."""
        for seq in [s for s, k in self.cursor.states.items() if k == FINAL and s <= self.cursor.floor]:
            del self.cursor.states[seq]

    def _read_chunks(self, seq: int) -> None:
        """The chunks of a streaming reply after the feed's position in it (one query)."""
        have = self.cursor.states.get(seq)
        if have is None or have == FINAL:
            self.wake()  # a reply this feed has not seen start: read the thread
            return
        self._hub.chunk_reads += 1
        for chunk in ev.load_chunks(self._store, self._channel, self.tenant_id, self.env, self.thread_id, seq, have):
            n = int(chunk["n"])
            if 0 < n < FINAL and self.cursor.advance(seq, n):
                self._emit(ev.ThreadEvent(ev.DELTA, self.thread_id, seq, n, self.epoch, {"n": n, "text": chunk["text"]}))

    def _emit(self, event: ev.ThreadEvent) -> None:
        self._loop.call_soon_threadsafe(self._fan_out, event)

    def _fan_out(self, event: ev.ThreadEvent) -> None:  # on the event loop
        for subscriber in list(self.subscribers):
            subscriber.offer(event)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._hub.discard(self)
        self._sub.close()

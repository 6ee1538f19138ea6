"""Realtime events of a thread, derived from what the store holds: the same derivation serves
live changes and backfill, so a resumed stream is the stream it would have been."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from studio.ports.store import Change, DocumentStore, Filter, Query, iter_all
from studio.realtime.channels import ThreadChannel
from studio.realtime.cursor import FINAL, Cursor

CREATED, DELTA, COMPLETED, FAILED = "message.created", "message.delta", "message.completed", "message.failed"
EPOCH_CHANGED = "thread.epoch_changed"
T = TypeVar("T")


@dataclass(frozen=True)
class ThreadEvent:
    type: str
    thread_id: str
    seq: int
    k: int
    epoch: int
    data: dict[str, Any]

    def frame(self, cursor: str) -> dict[str, Any]:
        """The WebSocket frame: {type, thread_id, seq, epoch, data}, plus the resume cursor."""
        return {"type": self.type, "thread_id": self.thread_id, "seq": self.seq, "epoch": self.epoch,
                "data": self.data, "cursor": cursor}

    def encoded(self, cursor: str) -> str:
        """The frame as JSON (the WebSocket text and the SSE ``data:``)."""
        return self.rendered("json", cursor, lambda: json.dumps(self.frame(cursor), separators=(",", ":")))

    def rendered(self, form: str, cursor: str, build: Callable[[], T]) -> T:
        """``build()`` once per form and cursor however many subscribers receive the event
        (they almost all share one cursor): the fan-out's cost is the send, not the encoding."""
        cache: dict[tuple[str, str], Any] = self.__dict__.setdefault("_rendered", {})
        key = (form, cursor)
        try:
            value: T = cache[key]  # built by a build() of this form: the same type
            return value
        except KeyError:
            value = cache[key] = build()
            return value


def message_events(channel: ThreadChannel, thread_id: str, msg: dict[str, Any],
                   chunks: list[dict[str, Any]]) -> list[ThreadEvent]:
    """A message's whole life as events: created, its deltas, and its end."""
    seq, epoch = int(msg["seq"]), int(msg["epoch"])
    view = channel.view(thread_id, msg)
    if msg["role"] != "agent":  # a user message is complete at birth: one event
        return [ThreadEvent(CREATED, thread_id, seq, FINAL, epoch, view)]
    events = [ThreadEvent(CREATED, thread_id, seq, 0, epoch, dict(view, text="", status="streaming"))]
    events += [ThreadEvent(DELTA, thread_id, seq, int(c["n"]), epoch, {"n": int(c["n"]), "text": c["text"]})
               for c in chunks]
    if msg["status"] in ("complete", "failed"):
        events.append(ThreadEvent(COMPLETED if msg["status"] == "complete" else FAILED, thread_id, seq, FINAL,
                                  epoch, view))
    return events


def load_chunks(store: DocumentStore, channel: ThreadChannel, tenant_id: str, env: str, thread_id: str, seq: int,
                after: int = 0) -> list[dict[str, Any]]:
    q = Query(channel.chunks(tenant_id, env, thread_id, seq), [Filter("n", ">", after)], [("n", "asc")], 500)
    return [d.data for d in iter_all(store, q)]


def backfill(store: DocumentStore, channel: ThreadChannel, tenant_id: str, env: str, thread_id: str,
             cursor: Cursor) -> list[ThreadEvent]:
    """Every event the cursor has not seen, in position order."""
    # From the first message not whole on the client. A position may sit at or below the floor (the
    # broker feed's start cursor keeps the reply streaming at the counter there): that message is
    # read too, or its later deltas and its end would never come.
    lowest = min([cursor.floor, *(seq - 1 for seq in cursor.states)])
    q = Query(channel.messages(tenant_id, env, thread_id), [Filter("seq", ">", lowest)], [("seq", "asc")], 500)
    events: list[ThreadEvent] = []
    for doc in iter_all(store, q):
        msg = doc.data
        have = cursor.position_of(int(msg["seq"]))
        if have == FINAL:
            continue
        chunks = load_chunks(store, channel, tenant_id, env, thread_id, int(msg["seq"]), max(have, 0)) \
            if msg["role"] == "agent" else []
        events += [e for e in message_events(channel, thread_id, msg, chunks) if e.k > have]
    return events


def from_message_change(channel: ThreadChannel, thread_id: str, change: Change) -> ThreadEvent | None:
    """A message document was written: its birth, or (second write) its end."""
    if change.op != "put" or change.data is None:
        return None
    return message_event(channel, thread_id, change.data)


def message_event(channel: ThreadChannel, thread_id: str, msg: dict[str, Any]) -> ThreadEvent:
    """The event a message document's write is: a user message whole, a reply's start, or its end.
    The broker feed derives an event carried in a hint with this same function (decision 0106)."""
    view = channel.view(thread_id, msg)
    seq, epoch = int(msg["seq"]), int(msg["epoch"])
    if msg["role"] != "agent":
        return ThreadEvent(CREATED, thread_id, seq, FINAL, epoch, view)
    if msg["status"] == "streaming":
        return ThreadEvent(CREATED, thread_id, seq, 0, epoch, dict(view, text=""))
    return ThreadEvent(COMPLETED if msg["status"] == "complete" else FAILED, thread_id, seq, FINAL, epoch, view)


def from_chunk_change(thread_id: str, seq: int, epoch: int, change: Change) -> ThreadEvent | None:
    if change.op != "put" or change.data is None:
        return None
    n = int(change.data["n"])
    return ThreadEvent(DELTA, thread_id, seq, n, epoch, {"n": n, "text": change.data["text"]})

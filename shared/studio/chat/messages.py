"""Durable messages with a per-thread monotonic ``seq`` (the realtime offset).

``seq`` comes from the thread's counter document, incremented in the same transaction
that creates the message (docs/decisions/0009-chat-seq.md). A user message is complete at
birth; an agent reply is born ``streaming``, grows by chunk documents (at most one per
250 ms), and ends ``complete`` or ``failed``: the message document is written only twice.
"""
from __future__ import annotations

import secrets
from typing import Any

from studio.chat import paths
from studio.chat.hints import ThreadHints
from studio.chat.views import message_view
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import DocumentStore, Filter, Query, Transaction

TOPIC = "chat.messages"  # user messages, for the agent pipeline


class MessageService:
    def __init__(self, store: DocumentStore, hints: ThreadHints | None = None) -> None:
        self._store = store
        self._hints = hints or ThreadHints(None)  # after each commit: wake the gateways holding the thread

    def _allocate(self, tx: Transaction, tenant_id: str, env: str, thread_id: str) -> tuple[int, int]:
        thread = tx.get(paths.thread(tenant_id, env, thread_id))
        if thread is None or thread.data.get("deleted"):
            raise errors.NotFound("no such thread")
        counter = tx.get(paths.counter(tenant_id, env, thread_id))
        seq = (counter.data["last_seq"] if counter else 0) + 1
        tx.put(paths.counter(tenant_id, env, thread_id), {"last_seq": seq})
        return seq, int(thread.data["epoch"])

    def post_user(self, tenant_id: str, env: str, thread_id: str, author: str, text: str,
                  client_id: str | None, agent_id: str) -> dict[str, Any]:
        def write(tx: Transaction) -> dict[str, Any]:
            seq, epoch = self._allocate(tx, tenant_id, env, thread_id)
            data = {"id": "m_" + secrets.token_hex(8), "seq": seq, "epoch": epoch, "role": "user", "author": author,
                    "text": text, "status": "complete", "client_id": client_id, "created_at": utc_now(),
                    "completed_at": utc_now()}
            tx.create(paths.message(tenant_id, env, thread_id, seq), data)
            emit(tx, DomainEvent("chat.message_posted", tenant_id, env, paths.thread(tenant_id, env, thread_id),
                                 {"thread_id": thread_id, "seq": seq, "author": author, "agent_id": agent_id}),
                 topic=TOPIC)
            return data

        data = self._store.run_transaction(write)
        self._hints.moved(tenant_id, env, thread_id, int(data["seq"]), msg=data)
        return message_view(thread_id, data)

    def start_reply(self, tenant_id: str, env: str, thread_id: str, agent_id: str, reply_to: int) -> dict[str, Any]:
        def write(tx: Transaction) -> dict[str, Any]:
            seq, epoch = self._allocate(tx, tenant_id, env, thread_id)
            data = {"id": "m_" + secrets.token_hex(8), "seq": seq, "epoch": epoch, "role": "agent",
                    "author": agent_id, "text": "", "status": "streaming", "reply_to": reply_to,
                    "created_at": utc_now(), "completed_at": None, "chunks": 0}
            tx.create(paths.message(tenant_id, env, thread_id, seq), data)
            emit(tx, DomainEvent("chat.reply_started", tenant_id, env, paths.thread(tenant_id, env, thread_id),
                                 {"thread_id": thread_id, "seq": seq, "reply_to": reply_to, "agent_id": agent_id}))
            return data

        data = self._store.run_transaction(write)
        self._hints.moved(tenant_id, env, thread_id, int(data["seq"]), 0, msg=data)
        return data

    def append_chunk(self, tenant_id: str, env: str, thread_id: str, seq: int, n: int, text: str) -> None:
        self._store.put(paths.chunk(tenant_id, env, thread_id, seq, n), {"n": n, "text": text, "created_at": utc_now()},
                        expected_rev=0)
        self._hints.moved(tenant_id, env, thread_id, seq, n, text=text)

    def finish(self, tenant_id: str, env: str, thread_id: str, seq: int, *, text: str, chunks: int,
               error: str | None = None, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        path = paths.message(tenant_id, env, thread_id, seq)

        def write(tx: Transaction) -> dict[str, Any]:
            doc = tx.get(path)
            if doc is None:
                raise errors.NotFound("no such message")
            if doc.data["status"] != "streaming":
                return dict(doc.data)  # a redelivered job finishing twice changes nothing
            data = dict(doc.data, text=text, chunks=chunks, completed_at=utc_now(),
                        status="failed" if error else "complete", error=error)
            if metadata:  # e.g. the Nexus cards the agent was given (its sources)
                data["metadata"] = metadata
            tx.put(path, data, expected_rev=doc.rev)
            # Its deltas are chunk documents with no event each (the realtime feed streams them);
            # the reply's end is a state change like any other.
            emit(tx, DomainEvent("chat.reply_finished", tenant_id, env, paths.thread(tenant_id, env, thread_id),
                                 {"thread_id": thread_id, "seq": seq, "status": data["status"], "chunks": chunks}))
            return data

        data = self._store.run_transaction(write)
        # A failed end goes bare: a feed delivers an end from its hint only once it has delta
        # ``chunks``, and the retry that closes an interrupted reply passes a count it cannot know.
        self._hints.moved(tenant_id, env, thread_id, seq, msg=None if data["status"] == "failed" else data)
        return data

    def get(self, tenant_id: str, env: str, thread_id: str, seq: int) -> dict[str, Any] | None:
        doc = self._store.get(paths.message(tenant_id, env, thread_id, seq))
        return None if doc is None else dict(doc.data)

    def list_messages(self, tenant_id: str, env: str, thread_id: str, since: int, limit: int) -> dict[str, Any]:
        """Messages with seq > since, in seq order; ``next_since`` when more follow."""
        page = self._store.query(Query(paths.messages(tenant_id, env, thread_id), [Filter("seq", ">", since)],
                                       [("seq", "asc")], limit))
        docs = page.docs
        return {"messages": [message_view(thread_id, d.data) for d in docs],
                "next_since": docs[-1].data["seq"] if page.next_cursor and docs else None}

    def chunks(self, tenant_id: str, env: str, thread_id: str, seq: int, after: int = 0) -> list[dict[str, Any]]:
        page = self._store.query(Query(paths.chunks(tenant_id, env, thread_id, seq), [], [("n", "asc")], 10_000))
        return [{"n": d.data["n"], "text": d.data["text"]} for d in page.docs if d.data["n"] > after]

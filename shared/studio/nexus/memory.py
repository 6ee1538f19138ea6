"""Memory: a session's snippets (the chat pipeline keeps one per user message; agents and people add
notes) and blackboards, revisioned shared scratchpads agents write to (a stale writer gets 412/409)."""
from __future__ import annotations

import secrets
import time
from typing import Any

from studio.chat import paths as chat_paths
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.nexus import paths
from studio.ports.store import Document, DocumentStore, Query, Transaction


def snippet_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "text": d["text"], "seq": d.get("seq"), "author": d.get("author"),
            "kind": d.get("kind", "message"), "at": d.get("at")}


def board_view(key: str, doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"key": key, "content": d["content"], "rev": doc.rev, "updated_by": d.get("updated_by"),
            "updated_at": d.get("updated_at")}


class MemoryService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def session(self, ctx: RequestContext, thread_id: str, limit: int) -> dict[str, Any]:
        self._thread(ctx, thread_id)
        page = self._store.query(Query(chat_paths.memory_snippets(ctx.tenant_id, ctx.env, thread_id), [],
                                       [("at", "desc")], limit))
        return {"thread_id": thread_id, "messages": [snippet_view(d) for d in reversed(page.docs)]}

    def recent_text(self, tenant_id: str, env: str, thread_id: str, limit: int = 3) -> str:
        page = self._store.query(Query(chat_paths.memory_snippets(tenant_id, env, thread_id), [],
                                       [("at", "desc")], limit))
        return "\n".join(d.data["text"] for d in reversed(page.docs))

    def add_note(self, ctx: RequestContext, thread_id: str, text: str) -> dict[str, Any]:
        self._thread(ctx, thread_id)
        # sorts after the pipeline's zero-padded seq ids and in time among notes
        note_id = f"note_{time.time_ns():020d}_{secrets.token_hex(3)}"
        path = f"{chat_paths.memory_snippets(ctx.tenant_id, ctx.env, thread_id)}/{note_id}"

        def write(tx: Transaction) -> Document:
            doc = tx.create(path, {"text": text, "seq": None, "author": ctx.user_id, "kind": "note", "at": utc_now()})
            emit(tx, DomainEvent("nexus.memory_noted", ctx.tenant_id, ctx.env, path, {"thread_id": thread_id}))
            return doc

        return snippet_view(self._store.run_transaction(write))

    def _thread(self, ctx: RequestContext, thread_id: str) -> None:
        thread = self._store.get(chat_paths.thread(ctx.tenant_id, ctx.env, thread_id))
        if thread is None or thread.data.get("deleted"):
            raise errors.NotFound("no such thread")

    # -- blackboards --------------------------------------------------------
    def board(self, ctx: RequestContext, key: str) -> dict[str, Any]:
        doc = self._store.get(paths.blackboard(ctx.tenant_id, ctx.env, key))
        if doc is None:
            raise errors.NotFound("no such blackboard")
        return board_view(key, doc)

    def board_rev(self, ctx: RequestContext, key: str) -> int:
        doc = self._store.get(paths.blackboard(ctx.tenant_id, ctx.env, key))
        return 0 if doc is None else doc.rev

    def boards(self, ctx: RequestContext, limit: int, page_token: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.blackboards(ctx.tenant_id, ctx.env), [], [("updated_at", "desc")], limit,
                                       page_token))
        return {"blackboards": [board_view(d.doc_id, d) for d in page.docs], "next_page_token": page.next_cursor}

    def write_board(self, ctx: RequestContext, key: str, content: dict[str, Any], base_rev: int) -> dict[str, Any]:
        def write(tx: Transaction) -> Document:
            return repository.upsert(
                tx, paths.blackboard(ctx.tenant_id, ctx.env, key), base_rev,
                change=lambda doc: {"content": content, "updated_by": ctx.user_id, "updated_at": utc_now()},
                event=lambda b, a: DomainEvent("nexus.blackboard_written", ctx.tenant_id, ctx.env, a.path,
                                               {"key": key, "rev": a.rev})).after

        return board_view(key, self._store.run_transaction(write))

    def delete_board(self, ctx: RequestContext, key: str, base_rev: int) -> None:
        self._store.run_transaction(lambda tx: repository.delete(
            tx, paths.blackboard(ctx.tenant_id, ctx.env, key), base_rev, what="blackboard",
            event=lambda d: DomainEvent("nexus.blackboard_deleted", ctx.tenant_id, ctx.env, d.path, {"key": key})))

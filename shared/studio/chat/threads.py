"""Chat threads: revisioned metadata plus the ``epoch`` the realtime protocol resumes in.

The epoch changes when a thread's history is rewritten (today: when it is cleared), which
tells connected clients their cursor means nothing any more and they must reload.
"""
from __future__ import annotations

import secrets
from typing import Any

from studio.chat import paths
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import DocumentStore, Filter, Query


def thread_view(doc: Any, last_seq: int = 0) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.id, "title": d["title"], "agent_id": d["agent_id"], "epoch": d["epoch"],
            "last_seq": last_seq, "rev": doc.rev, "created_by": d["created_by"],
            "created_at": doc.create_time, "updated_at": doc.update_time}


class ThreadService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def create(self, ctx: RequestContext, title: str, agent_id: str) -> dict[str, Any]:
        thread_id = "th_" + secrets.token_hex(8)

        def write(tx: Any) -> Any:
            doc = tx.create(paths.thread(ctx.tenant_id, ctx.env, thread_id), {
                "title": title, "agent_id": agent_id, "epoch": 1, "created_by": ctx.user_id,
                "created_at": utc_now(), "deleted": False})
            tx.create(paths.counter(ctx.tenant_id, ctx.env, thread_id), {"last_seq": 0})
            emit(tx, DomainEvent("chat.thread_created", ctx.tenant_id, ctx.env, doc.path, {"thread_id": thread_id}))
            return doc

        return thread_view(self._store.run_transaction(write))

    def get_doc(self, ctx: RequestContext, thread_id: str) -> Any:
        if not thread_id.startswith("th_"):
            raise errors.NotFound("no such thread")
        doc = self._store.get(paths.thread(ctx.tenant_id, ctx.env, thread_id))
        if doc is None or doc.data.get("deleted"):
            raise errors.NotFound("no such thread")
        return doc

    def last_seq(self, ctx: RequestContext, thread_id: str) -> int:
        counter = self._store.get(paths.counter(ctx.tenant_id, ctx.env, thread_id))
        return int(counter.data["last_seq"]) if counter else 0

    def get(self, ctx: RequestContext, thread_id: str) -> dict[str, Any]:
        return thread_view(self.get_doc(ctx, thread_id), self.last_seq(ctx, thread_id))

    def list(self, ctx: RequestContext, limit: int, page_token: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.threads(ctx.tenant_id, ctx.env), [Filter("deleted", "==", False)],
                                       [("created_at", "desc")], limit, page_token))
        return {"threads": [thread_view(d, self.last_seq(ctx, d.id)) for d in page.docs],
                "next_page_token": page.next_cursor}

    def rename(self, ctx: RequestContext, thread_id: str, title: str, base_rev: int) -> dict[str, Any]:
        self.get_doc(ctx, thread_id)

        def write(tx: Any) -> Any:
            doc = tx.get(paths.thread(ctx.tenant_id, ctx.env, thread_id))
            return tx.put(doc.path, dict(doc.data, title=title), expected_rev=base_rev)

        return thread_view(self._store.run_transaction(write), self.last_seq(ctx, thread_id))

    def delete(self, ctx: RequestContext, thread_id: str, base_rev: int | None) -> None:
        doc = self.get_doc(ctx, thread_id)
        if doc.data["created_by"] != ctx.user_id and not (ctx.role and ctx.role.value in ("admin", "owner")):
            raise errors.StudioError(errors.ROLE_INSUFFICIENT, "only the author or an admin deletes a thread")

        def write(tx: Any) -> None:
            current = tx.get(doc.path)
            # Soft delete: the epoch moves on, so live clients are told to reload (and find a 404).
            tx.put(doc.path, dict(current.data, deleted=True, epoch=current.data["epoch"] + 1),
                   expected_rev=base_rev)
            emit(tx, DomainEvent("chat.thread_deleted", ctx.tenant_id, ctx.env, doc.path, {"thread_id": thread_id}))

        self._store.run_transaction(write)

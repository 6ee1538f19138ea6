"""Chat threads: revisioned metadata plus the ``epoch`` the realtime protocol resumes in.

The epoch changes when a thread's history is rewritten (today: when it is cleared), which
tells connected clients their cursor means nothing any more and they must reload.
"""
from __future__ import annotations

import secrets
from typing import Any

from studio.chat import paths
from studio.chat.hints import ThreadHints
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.roles import Role
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction


def thread_view(doc: Document, last_seq: int = 0) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "title": d["title"], "agent_id": d["agent_id"], "epoch": d["epoch"],
            "last_seq": last_seq, "rev": doc.rev, "created_by": d["created_by"],
            "created_at": doc.create_time, "updated_at": doc.update_time}


class ThreadService:
    def __init__(self, store: DocumentStore, hints: ThreadHints | None = None) -> None:
        self._store = store
        self._hints = hints or ThreadHints(None)

    def create(self, ctx: RequestContext, title: str, agent_id: str) -> dict[str, Any]:
        thread_id = "th_" + secrets.token_hex(8)

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.thread(ctx.tenant_id, ctx.env, thread_id), {
                "title": title, "agent_id": agent_id, "epoch": 1, "created_by": ctx.user_id,
                "created_at": utc_now(), "deleted": False})
            tx.create(paths.counter(ctx.tenant_id, ctx.env, thread_id), {"last_seq": 0})
            emit(tx, DomainEvent("chat.thread_created", ctx.tenant_id, ctx.env, doc.path, {"thread_id": thread_id}))
            return doc

        return thread_view(self._store.run_transaction(write))

    def get_doc(self, ctx: RequestContext, thread_id: str) -> Document:
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

    def list_threads(self, ctx: RequestContext, limit: int, page_token: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.threads(ctx.tenant_id, ctx.env), [Filter("deleted", "==", False)],
                                       [("created_at", "desc")], limit, page_token))
        # One batched read for every thread's counter, not one round trip per thread (issue 16).
        counters = self._store.get_many([paths.counter(ctx.tenant_id, ctx.env, d.doc_id) for d in page.docs])
        return {"threads": [thread_view(d, int(c.data["last_seq"]) if c else 0)
                            for d, c in zip(page.docs, counters, strict=True)],
                "next_page_token": page.next_cursor}

    def current_rev_for_writer(self, ctx: RequestContext, thread_id: str) -> int:
        """The thread's rev, for its author or an admin only (the kernel's early check)."""
        doc: Document = self.get_doc(ctx, thread_id)
        _check_writer(ctx, doc)
        return doc.rev

    def rename(self, ctx: RequestContext, thread_id: str, title: str, base_rev: int) -> dict[str, Any]:
        def change(doc: Document) -> dict[str, Any]:
            _check_writer(ctx, doc)
            return dict(doc.data, title=title)

        done = self._store.run_transaction(lambda tx: repository.update(
            tx, self._path(ctx, thread_id), base_rev, change=change, what="thread", exists=_live,
            event=lambda before, after: DomainEvent(
                "chat.thread_renamed", ctx.tenant_id, ctx.env, after.path,
                {"thread_id": thread_id, "from": before.data["title"], "to": title, "rev": after.rev})))
        return thread_view(done.after, self.last_seq(ctx, thread_id))

    def delete(self, ctx: RequestContext, thread_id: str, base_rev: int) -> None:
        def change(doc: Document) -> dict[str, Any]:
            _check_writer(ctx, doc)
            # Soft delete: the epoch moves on, so live clients are told to reload (and find a 404).
            return dict(doc.data, deleted=True, epoch=doc.data["epoch"] + 1)

        done = self._store.run_transaction(lambda tx: repository.update(
            tx, self._path(ctx, thread_id), base_rev, change=change, what="thread", exists=_live,
            event=lambda before, after: DomainEvent("chat.thread_deleted", ctx.tenant_id, ctx.env, after.path,
                                                    {"thread_id": thread_id, "rev": after.rev})))
        self._hints.epoch(ctx.tenant_id, ctx.env, thread_id, int(done.after.data["epoch"]))

    def _path(self, ctx: RequestContext, thread_id: str) -> str:
        if not thread_id.startswith("th_"):
            raise errors.NotFound("no such thread")
        return paths.thread(ctx.tenant_id, ctx.env, thread_id)


def _live(doc: Document) -> bool:
    return not doc.data.get("deleted")


def _check_writer(ctx: RequestContext, doc: Document) -> None:
    """Renaming or deleting a thread takes its author or an admin; other members only post to it."""
    if ctx.is_system or doc.data["created_by"] == ctx.user_id or (ctx.role is not None and ctx.role.at_least(Role.ADMIN)):
        return
    raise errors.StudioError(errors.ROLE_INSUFFICIENT, "only the thread's author or an admin changes it")

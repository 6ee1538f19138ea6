"""Video projects: a name and a timeline, revisioned; every write validates the whole timeline and
emits its event in the same transaction (kernel/repository.py)."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction
from studio.video import paths, timeline
from studio.video.errors import TIMELINE_INVALID

_PROJECT_ID = re.compile(r"^vp_[0-9a-f]{16}$")
EMPTY_TIMELINE: dict[str, Any] = {"tracks": [], "output": {}}


def project_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "name": d["name"], "timeline": d["timeline"], "duration_s": d.get("duration_s", 0.0),
            "rev": doc.rev, "created_at": d["created_at"], "updated_at": d.get("updated_at", d["created_at"])}


def checked(raw: dict[str, Any]) -> tuple[dict[str, Any], float]:
    """The timeline normalised (defaults filled, by alias) and its duration; TIMELINE_INVALID with pointers."""
    found = timeline.problems(raw)
    if found:
        raise errors.StudioError(TIMELINE_INVALID, f"{len(found)} problem(s), first at {found[0]['pointer'] or '/'}",
                                 errors=found)
    model = timeline.Timeline.model_validate(raw)
    return model.model_dump(mode="json", by_alias=True), round(timeline.duration(model), 6)


class ProjectService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def path(self, ctx: RequestContext, project_id: str) -> str:
        if not _PROJECT_ID.match(project_id):
            raise errors.NotFound("no such project")
        return paths.project(ctx.tenant_id, ctx.env, project_id)

    def create(self, ctx: RequestContext, name: str, raw: dict[str, Any] | None) -> dict[str, Any]:
        tl, dur = checked(raw if raw is not None else EMPTY_TIMELINE)
        project_id = "vp_" + secrets.token_hex(8)

        def write(tx: Transaction) -> Document:
            now = utc_now()
            doc = tx.create(paths.project(ctx.tenant_id, ctx.env, project_id),
                            {"name": name, "timeline": tl, "duration_s": dur, "created_at": now, "updated_at": now,
                             "created_by": ctx.user_id})
            emit(tx, DomainEvent("video.project_created", ctx.tenant_id, ctx.env, doc.path, {"project_id": project_id}))
            return doc

        return project_view(self._store.run_transaction(write))

    def get_doc(self, ctx: RequestContext, project_id: str) -> Document:
        doc = self._store.get(self.path(ctx, project_id))
        if doc is None:
            raise errors.NotFound("no such project")
        return doc

    def get(self, ctx: RequestContext, project_id: str) -> dict[str, Any]:
        return project_view(self.get_doc(ctx, project_id))

    def current_rev(self, ctx: RequestContext, project_id: str) -> int | None:
        doc = self._store.get(self.path(ctx, project_id))
        return None if doc is None else doc.rev

    def list_projects(self, ctx: RequestContext, limit: int, cursor: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.projects(ctx.tenant_id, ctx.env), [], [("created_at", "desc")],
                                       limit, cursor))
        return {"projects": [project_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def patch(self, ctx: RequestContext, project_id: str, name: str | None, raw: dict[str, Any] | None,
              base_rev: int) -> dict[str, Any]:
        checked_tl = None if raw is None else checked(raw)

        def change(doc: Document) -> dict[str, Any]:
            data = dict(doc.data, updated_at=utc_now())
            if name is not None:
                data["name"] = name
            if checked_tl is not None:
                data["timeline"], data["duration_s"] = checked_tl
            return data

        return self._write(ctx, project_id, base_rev, change, "video.project_updated", {})[0]

    def edit_timeline(self, ctx: RequestContext, project_id: str, base_rev: int,
                      edit: Callable[[dict[str, Any]], dict[str, Any]],
                      command: str) -> tuple[dict[str, Any], DomainEvent]:
        """Apply one timeline command to the revision the editor saw; a stale ``base_rev`` conflicts."""
        def change(doc: Document) -> dict[str, Any]:
            tl, dur = checked(edit(doc.data["timeline"]))
            return dict(doc.data, timeline=tl, duration_s=dur, updated_at=utc_now())

        return self._write(ctx, project_id, base_rev, change, "video.timeline_edited", {"command": command})

    def _write(self, ctx: RequestContext, project_id: str, base_rev: int,
               change: Callable[[Document], dict[str, Any]], kind: str,
               extra: dict[str, Any]) -> tuple[dict[str, Any], DomainEvent]:
        path = self.path(ctx, project_id)

        def write(tx: Transaction) -> repository.Revised:
            return repository.update(
                tx, path, base_rev, what="project", change=change,
                event=lambda before, after: DomainEvent(kind, ctx.tenant_id, ctx.env, after.path,
                                                        {"project_id": project_id, "rev": after.rev, **extra}))

        done = self._store.run_transaction(write)
        return project_view(done.after), done.event

    def delete(self, ctx: RequestContext, project_id: str, base_rev: int) -> None:
        path = self.path(ctx, project_id)
        self._store.run_transaction(lambda tx: repository.delete(
            tx, path, base_rev, what="project",
            event=lambda before: DomainEvent("video.project_deleted", ctx.tenant_id, ctx.env, path,
                                             {"project_id": project_id})))

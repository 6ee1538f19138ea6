"""Render jobs: requested over HTTP (202) with the plan the dry run shows, fanned out by the render worker
(topic ``render.jobs``) as one ``render.chunks`` message per part for the chunk workers (part_worker.py),
cancelled, and never left ``running`` forever: a read of a job whose deadline has passed, or whose lease
ran out with no part waiting or held, ends it ``failed`` with a reason (decisions 0068, 0087)."""
from __future__ import annotations

import functools
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.blobs import BlobStore
from studio.ports.bus import Bus
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction
from studio.video import parts, paths, plan, sources, timeline
from studio.video.errors import PROJECT_REV_MISSING, RENDER_NOT_CANCELLABLE
from studio.video.finish import fail_job, scope
from studio.video.projects import ProjectService

JOBS_TOPIC = "render.jobs"
CHUNKS_TOPIC = "render.chunks"
FANOUT_BATCH = 100  # parts per fan-out transaction: 2 writes each, under Firestore's 500 per commit
ENDED = ("done", "failed", "cancelled")
_OUT = ("status", "project_id", "project_rev", "progress", "chunks", "eta_s", "created_at", "started_at",
        "finished_at", "error", "artifact_id", "estimate", "plan", "executed", "elapsed_s")


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def timeout_s() -> float:
    return float(os.environ.get("STUDIO_RENDER_TIMEOUT_S", "1800"))


def job_view(doc: Document, part_docs: list[Document] | None = None) -> dict[str, Any]:
    """The job; with its part documents, the chunk states and progress they say now (while it runs)."""
    view = {"id": doc.doc_id, "rev": doc.rev} | {k: doc.data[k] for k in _OUT if doc.data.get(k) is not None}
    if part_docs:
        done = sum(1 for d in part_docs if d.data["state"] == "done")
        view["chunks"] = parts.chunk_states(part_docs)
        if doc.data["status"] == "running":
            view["progress"] = round(done / len(part_docs) * 0.9, 3)
    return view


class RenderJobs:
    def __init__(self, store: DocumentStore, bus: Bus, blobs: BlobStore, projects: ProjectService) -> None:
        self._store = store
        self._bus = bus
        self._blobs = blobs
        self._projects = projects

    # -- the plan ----------------------------------------------------------------------------
    def _planned(self, ctx: RequestContext, project_id: str, rev: int) -> tuple[Document, dict[str, Any]]:
        doc = self._projects.get_doc(ctx, project_id)
        if doc.rev != rev:
            raise errors.StudioError(PROJECT_REV_MISSING, f"the project is at rev {doc.rev}, not {rev}")
        from studio.video.text_styles import with_presets

        tl = with_presets(self._store, ctx.tenant_id, ctx.env, timeline.Timeline.model_validate(doc.data["timeline"]))
        found = sources.resolve_all(self._store, ctx.tenant_id, ctx.env, plan.sources_used(tl))
        return doc, plan.build(tl, {sid: r.source for sid, r in found.items()})

    def dry_run(self, ctx: RequestContext, project_id: str, rev: int) -> dict[str, Any]:
        return self._planned(ctx, project_id, rev)[1]

    # -- the API -----------------------------------------------------------------------------
    def request(self, ctx: RequestContext, project_id: str, rev: int) -> dict[str, Any]:
        project, the_plan = self._planned(ctx, project_id, rev)
        job_id = "rj_" + secrets.token_hex(8)
        data = {"status": "queued", "project_id": project_id, "project_rev": rev, "progress": 0.0,
                "timeline": project.data["timeline"], "plan": the_plan, "estimate": the_plan["estimate"],
                "sources": sorted({i["source"] for c in the_plan["chunks"] for i in c["inputs"]}
                                  | {i["source"] for i in the_plan["audio"]["inputs"]}
                                  | set(_fonts_in(the_plan))),
                "chunks": [{"index": c["index"], "state": "queued", "attempts": 0} for c in the_plan["chunks"]],
                "created_at": utc_now(), "deadline": _later(timeout_s()), "created_by": ctx.user_id}

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.job(ctx.tenant_id, ctx.env, job_id), data)
            emit(tx, DomainEvent("video.render_requested", ctx.tenant_id, ctx.env, doc.path,
                                 {"job_id": job_id, "project_id": project_id}), topic=JOBS_TOPIC)
            return doc

        return job_view(self._store.run_transaction(write))

    def get(self, ctx: RequestContext, job_id: str) -> dict[str, Any]:
        return self._view(self._doc(ctx, job_id))

    def _view(self, doc: Document) -> dict[str, Any]:
        if doc.data["status"] in ("queued", "done"):
            return job_view(self._expire(doc, []))  # no parts yet / the final states are on the job
        tenant_id, env = scope(doc.path)
        found = parts.read_all(self._store, tenant_id, env, doc.doc_id)
        return job_view(self._expire(doc, found), found)

    def list_jobs(self, ctx: RequestContext, status: str | None, project_id: str | None,
                  created_after: str | None, created_before: str | None, limit: int,
                  cursor: str | None) -> dict[str, Any]:
        filters = [Filter("status", "==", status)] if status else []
        if project_id:
            filters.append(Filter("project_id", "==", project_id))
        if created_after:
            filters.append(Filter("created_at", ">=", created_after))
        if created_before:
            filters.append(Filter("created_at", "<", created_before))
        page = self._store.query(Query(paths.jobs(ctx.tenant_id, ctx.env), filters, [("created_at", "desc")],
                                       limit, cursor))
        views = []
        for d in page.docs:
            v = self._view(d)
            v.pop("plan", None)  # a list stays small: the plan is on the job itself
            v.pop("executed", None)
            views.append(v)
        return {"jobs": views, "next_page_token": page.next_cursor}

    def cancel(self, ctx: RequestContext, job_id: str) -> dict[str, Any]:
        path = self._doc(ctx, job_id).path

        def write(tx: Transaction) -> Document:
            doc = tx.get(path)
            if doc is None:
                raise errors.NotFound("no such render job")
            if doc.data["status"] in ENDED:
                raise errors.StudioError(RENDER_NOT_CANCELLABLE, f"the job is already {doc.data['status']}")
            after = tx.put(path, dict(doc.data, status="cancelled", error="cancelled by " + ctx.user_id,
                                      finished_at=utc_now()), expected_rev=doc.rev)
            emit(tx, DomainEvent("video.render_cancelled", ctx.tenant_id, ctx.env, path, {"job_id": job_id}))
            return after

        return job_view(self._store.run_transaction(write))

    def _doc(self, ctx: RequestContext, job_id: str) -> Document:
        if not (job_id.startswith("rj_") and len(job_id) == 19 and job_id[3:].isalnum()):
            raise errors.NotFound("no such render job")
        doc = self._store.get(paths.job(ctx.tenant_id, ctx.env, job_id))
        if doc is None:
            raise errors.NotFound("no such render job")
        return doc

    def _expire(self, doc: Document, part_docs: list[Document]) -> Document:
        """A ``running`` job nobody works on any more (its lease ran out, no part waits in the bus or is
        held under a live lease), or a job past its deadline, ends here."""
        now = utc_now()
        d = doc.data
        if d["status"] in ENDED:
            return doc
        reason = None
        if d["status"] == "running" and d.get("lease_until", now) < now and not parts.live(part_docs, now):
            reason = "the render workers stopped (their lease expired)"
        elif d.get("deadline", now) < now:
            reason = f"the render did not finish within {timeout_s():.0f} s"
        if reason is None:
            return doc
        return self._store.run_transaction(lambda tx: fail_job(tx, doc.path, reason) or doc)

    # -- the render worker's side (topic render.jobs): plan -> one message per part -------------
    def start(self, tenant_id: str, env: str, job_id: str) -> None:
        """Mark a queued job running and publish one ``render.chunks`` message per part (each chunk and
        the audio mix), with its part document, in batches; a redelivery resumes an unfinished fan-out."""
        path = paths.job(tenant_id, env, job_id)
        doc = self._store.get(path)
        if doc is None or doc.data["status"] not in ("queued", "running"):
            return
        if doc.data["status"] == "running" and "parts_total" not in doc.data:
            return  # not a job this worker fanned out
        names = parts.names(doc.data["plan"])
        for first in range(0, len(names), FANOUT_BATCH):
            if not self._store.run_transaction(functools.partial(self._fan_out, path=path, names=names, first=first)):
                return

    def _fan_out(self, tx: Transaction, path: str, names: list[str], first: int) -> bool:
        doc = tx.get(path)
        if doc is None or doc.data["status"] not in ("queued", "running"):
            return False
        tenant_id, env = scope(path)
        job_id = doc.doc_id
        batch = names[first:first + FANOUT_BATCH]
        existing = {n for n in batch if tx.get(paths.part(tenant_id, env, job_id, n)) is not None}
        data = dict(doc.data, parts_total=len(names), lease_until=parts.later(parts.lease_s()))
        if doc.data["status"] == "queued":
            data.update(status="running", started_at=utc_now(), part_counts=parts.initial_counts(len(names)))
            emit(tx, DomainEvent("video.render_started", tenant_id, env, path, {"job_id": job_id}))
        tx.put(path, data, expected_rev=doc.rev)
        for name in batch:
            if name in existing:
                continue
            part = tx.create(paths.part(tenant_id, env, job_id, name), parts.new_doc(doc.data["plan"], job_id, name))
            # its subject is the part, not the job: the ordering key, so the bus hands out a job's parts at once
            emit(tx, DomainEvent("video.render_chunk_queued", tenant_id, env, part.path,
                                 {"job_id": job_id, "part": name}), topic=CHUNKS_TOPIC)
        return True


def _fonts_in(the_plan: dict[str, Any]) -> list[str]:
    """The registered fonts the chunks' drawtext filters name (``{font:fn_...}``)."""
    import re

    return sorted({m for c in the_plan["chunks"] for m in re.findall(r"\{font:(fn_[0-9a-f]{20})\}", c["filter"])})

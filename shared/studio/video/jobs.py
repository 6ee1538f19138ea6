"""Render jobs: requested over HTTP (202) with the plan the dry run shows, run by the render worker
(topic ``render.jobs``), cancelled, and never left ``running`` forever: the worker renews a lease while
chunks finish, and a read of a job whose lease or deadline has passed ends it ``failed`` with a reason."""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta, publish_meta
from studio.ports.blobs import BlobStore
from studio.ports.bus import Bus
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction
from studio.video import credentials, paths, plan, render, sources, timeline
from studio.video.credentials import RenderCredentials
from studio.video.errors import PROJECT_REV_MISSING, RENDER_NOT_CANCELLABLE
from studio.video.projects import ProjectService

JOBS_TOPIC = "render.jobs"
LEASE_S = 120.0  # a worker that stops renewing for this long is gone
ENDED = ("done", "failed", "cancelled")
_OUT = ("status", "project_id", "project_rev", "progress", "chunks", "eta_s", "created_at", "started_at",
        "finished_at", "error", "artifact_id", "estimate", "plan", "executed", "elapsed_s")


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def timeout_s() -> float:
    return float(os.environ.get("STUDIO_RENDER_TIMEOUT_S", "1800"))


def job_view(doc: Document) -> dict[str, Any]:
    return {"id": doc.doc_id, "rev": doc.rev} | {k: doc.data[k] for k in _OUT if doc.data.get(k) is not None}


class RenderJobs:
    def __init__(self, store: DocumentStore, bus: Bus, blobs: BlobStore, projects: ProjectService,
                 signer: RenderCredentials | None = None) -> None:
        self._store = store
        self._bus = bus
        self._blobs = blobs
        self._projects = projects
        self._credentials = signer  # signs the output (C2PA); None: a deployment without content credentials

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
        return job_view(self._expire(self._doc(ctx, job_id)))

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
            v = job_view(self._expire(d))
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

    def _expire(self, doc: Document) -> Document:
        """A ``running`` job whose worker stopped renewing its lease, or a job past its deadline, ends here."""
        now = utc_now()
        d = doc.data
        if d["status"] in ENDED:
            return doc
        reason = None
        if d["status"] == "running" and d.get("lease_until", now) < now:
            reason = "the render worker stopped (its lease expired)"
        elif d.get("deadline", now) < now:
            reason = f"the render did not finish within {timeout_s():.0f} s"
        if reason is None:
            return doc
        return self._store.run_transaction(lambda tx: self._fail(tx, doc.path, reason) or doc)

    def _fail(self, tx: Transaction, path: str, reason: str) -> Document | None:
        current = tx.get(path)
        if current is None or current.data["status"] in ENDED:
            return current
        tenant_id, env = _scope(path)
        after = tx.put(path, dict(current.data, status="failed", error=reason, finished_at=utc_now()),
                       expected_rev=current.rev)
        emit(tx, DomainEvent("video.render_finished", tenant_id, env, path,
                             {"job_id": current.doc_id, "status": "failed"}))
        emit_meta(tx, tenant_id, env, "render.result", {"job_id": current.doc_id, "status": "failed",
                                                        "error": reason}, subject=path)
        return after

    # -- the worker's side -------------------------------------------------------------------
    def run(self, tenant_id: str, env: str, job_id: str, workers: int | None = None) -> None:
        """Run one queued job; a redelivered event for a job past ``queued`` is a no-op."""
        path = paths.job(tenant_id, env, job_id)
        doc = self._store.get(path)
        if doc is None or doc.data["status"] != "queued":
            return

        def start(tx: Transaction) -> Document:
            after = tx.put(path, dict(doc.data, status="running", started_at=utc_now(), lease_until=_later(LEASE_S)),
                           expected_rev=doc.rev)
            emit(tx, DomainEvent("video.render_started", tenant_id, env, path, {"job_id": job_id}))
            return after

        self._store.run_transaction(start)
        the_plan = doc.data["plan"]
        work = tempfile.mkdtemp(prefix="render-")
        chunks = [dict(c) for c in doc.data["chunks"]]
        started = time.monotonic()
        executed: list[list[str]] = []
        try:
            found = sources.resolve_all(self._store, tenant_id, env, list(doc.data["sources"]))
            files = sources.fetch(self._blobs, found, work)
            files["{font:" + plan.DEFAULT_FONT + "}"] = default_font()
            runner = render.Runner(work, files, lambda: self._cancelled(path), executed)

            def on_chunk(index: int, state: str, attempt: int) -> None:
                chunks[index].update(state=state, attempts=attempt)
                self._progress(tenant_id, env, path, job_id, chunks, started)

            output = runner.run(the_plan, workers or render.default_workers(), on_chunk)
            self._finish(tenant_id, env, path, job_id, output, found, the_plan, chunks, executed,
                         time.monotonic() - started)
        except render.Cancelled:
            return  # the cancel wrote the job's end already
        except (render.RenderFailed, errors.StudioError) as exc:
            reason = str(getattr(exc, "detail", None) or exc)[:500]
            self._store.run_transaction(lambda tx: self._fail(tx, path, reason))
        except Exception as exc:  # noqa: BLE001 - the job must end, whatever broke
            reason = f"the render failed: {type(exc).__name__}: {str(exc)[:300]}"
            self._store.run_transaction(lambda tx: self._fail(tx, path, reason))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _cancelled(self, path: str) -> bool:
        doc = self._store.get(path)
        return doc is None or doc.data["status"] != "running"

    def _progress(self, tenant_id: str, env: str, path: str, job_id: str, chunks: list[dict[str, Any]],
                  started: float) -> None:
        done = sum(1 for c in chunks if c["state"] == "done")
        fraction = done / max(1, len(chunks))
        elapsed = time.monotonic() - started
        eta = None if done == 0 else round(elapsed / fraction - elapsed, 1)

        def write(tx: Transaction) -> None:  # the lease renews with every chunk that moves
            current = tx.get(path)
            if current is None or current.data["status"] != "running":
                return
            tx.put(path, dict(current.data, chunks=chunks, progress=round(fraction * 0.9, 3), eta_s=eta,
                              lease_until=_later(LEASE_S)), expected_rev=current.rev)

        self._store.run_transaction(write)
        publish_meta(self._bus, tenant_id, env, "render.progress",
                     {"job_id": job_id, "percent": round(fraction * 90, 1), "eta_s": eta,
                      "chunks": [{"index": c["index"], "state": c["state"], "attempts": c["attempts"]}
                                 for c in chunks][:200]})

    def _finish(self, tenant_id: str, env: str, path: str, job_id: str, output: str,
                found: dict[str, sources.Resolved], the_plan: dict[str, Any], chunks: list[dict[str, Any]],
                executed: list[list[str]], elapsed: float) -> None:
        from studio.media import artifacts
        from studio.media.provenance_data import ref

        with open(output, "rb") as fh:
            data = fh.read()
        job = self._store.get(path)
        if job is None or job.data["status"] != "running":
            return  # cancelled (or expired) while the last step ran: no artifact
        parent = next((r.asset for r in found.values() if r.asset is not None), None)
        if parent is None:
            raise render.RenderFailed("a render needs at least one media clip")
        ext = the_plan["container"]
        signed = (self._credentials.sign_render(data, f"video/{ext}", job.data, found) if self._credentials
                  else credentials.Signed(data, None))
        prepared = artifacts.prepare(
            self._blobs, tenant_id, env, parent, kind="render", mime=f"video/{ext}", ext=ext, data=signed.data,
            params={"project_id": job.data["project_id"], "project_rev": job.data["project_rev"], "job_id": job_id},
            width=the_plan["width"], height=the_plan["height"], duration_s=the_plan["duration_s"],
            extra={"tool": "video.render", "codec": the_plan["codec"]}, actor=("tool", "video.render"))
        # the ledger's lineage: every clip's source, not only the parent asset
        prepared.event.data["provenance"]["inputs"] = [
            ref("artifact" if sid.startswith("ar_") else "asset", sid, r.sha256) for sid, r in found.items()
            if not sid.startswith("fn_")]
        credentials.attach(self._blobs, prepared, signed)  # the ledger names the file; a sidecar goes beside it

        def write(tx: Transaction) -> None:
            current = tx.get(path)
            if current is None or current.data["status"] != "running":
                return
            art = artifacts.commit(tx, prepared)
            tx.put(path, dict(current.data, status="done", progress=1.0, eta_s=0.0, chunks=chunks,
                              artifact_id=art.doc_id, executed=executed, elapsed_s=round(elapsed, 3),
                              finished_at=utc_now()), expected_rev=current.rev)
            emit(tx, DomainEvent("video.render_finished", tenant_id, env, path,
                                 {"job_id": job_id, "status": "done", "artifact_id": art.doc_id}))
            emit_meta(tx, tenant_id, env, "render.result",
                      {"job_id": job_id, "status": "done", "artifact_id": art.doc_id}, subject=path)

        self._store.run_transaction(write)


def default_font() -> str:
    """The font a text clip without one uses: the system's sans (Debian's fonts-dejavu-core)."""
    found = os.environ.get("STUDIO_DEFAULT_FONT") or "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not os.path.exists(found):
        fc = shutil.which("fc-match")
        if fc:
            import subprocess

            found = subprocess.run([fc, "-f", "%{file}", "sans"], capture_output=True, text=True,  # noqa: S603
                                   check=False).stdout.strip() or found
    return found


def _fonts_in(the_plan: dict[str, Any]) -> list[str]:
    """The registered fonts the chunks' drawtext filters name (``{font:fn_...}``)."""
    import re

    return sorted({m for c in the_plan["chunks"] for m in re.findall(r"\{font:(fn_[0-9a-f]{20})\}", c["filter"])})


def _scope(path: str) -> tuple[str, str]:
    parts = path.split("/")  # tenants/{t}/envs/{env}/render_jobs/{id}
    return parts[1], parts[3]

"""A render job's end: the finisher (the one worker whose completion left no part unfinished) fetches the
parts, concatenates the chunks without re-encoding, muxes the audio mix, registers the output as a media
artifact and marks the job ``done``; a job that cannot finish ends ``failed`` with its reason, while a
transient 5xx (the blob store's 503) releases the finish and hands the message back to the bus. Progress
(percent, chunk states, ETA) goes to the tenant's meta channel (decision 0087)."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime

from studio.kernel import errors, logs
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta, publish_meta
from studio.ports.blobs import BlobStore
from studio.ports.bus import Bus
from studio.ports.store import Document, DocumentStore, Transaction
from studio.video import credentials, parts, paths, render, sources
from studio.video.credentials import RenderCredentials
from studio.video.watch import Watch

_log = logs.get("studio.video.finish")


def scope(path: str) -> tuple[str, str]:
    segments = path.split("/")  # tenants/{t}/envs/{env}/render_jobs/{id}
    return segments[1], segments[3]


def fail_job(tx: Transaction, path: str, reason: str) -> Document | None:
    """End a job that is not over yet ``failed`` with ``reason``, its event and its meta event."""
    current = tx.get(path)
    if current is None or current.data["status"] in ("done", "failed", "cancelled"):
        return current
    tenant_id, env = scope(path)
    after = tx.put(path, dict(current.data, status="failed", error=reason, finished_at=utc_now()),
                   expected_rev=current.rev)
    emit(tx, DomainEvent("video.render_finished", tenant_id, env, path,
                         {"job_id": current.doc_id, "status": "failed"}))
    emit_meta(tx, tenant_id, env, "render.result", {"job_id": current.doc_id, "status": "failed", "error": reason},
              subject=path)
    return after


def _seconds_since(iso: str | None) -> float:
    if not iso:
        return 0.0
    return max(0.0, (datetime.now(UTC) - datetime.fromisoformat(iso.replace("Z", "+00:00"))).total_seconds())


def publish_progress(store: DocumentStore, bus: Bus, tenant_id: str, env: str, job_id: str) -> None:
    """The job's progress now, from the tally its parts keep on it (parts.moved): percent (90 once every
    part is done; the finish is the rest), the chunks' states and an ETA from the elapsed time. One read,
    however many parts the job has."""
    job = store.get(paths.job(tenant_id, env, job_id))
    if job is None or job.data["status"] != "running":
        return
    counts = job.data.get("part_counts")
    if isinstance(counts, dict):
        done, total = int(counts.get("done", 0)), sum(int(n) for n in counts.values())
        chunks = list(job.data.get("chunks") or [])
    else:  # fanned out before the tally existed: count its parts
        docs = parts.read_all(store, tenant_id, env, job_id)
        done, total = sum(1 for d in docs if d.data["state"] == "done"), len(docs)
        chunks = parts.chunk_states(docs)
    fraction = done / max(1, total)
    elapsed = _seconds_since(job.data.get("started_at"))
    eta = None if done == 0 else round(elapsed / fraction - elapsed, 1)
    publish_meta(bus, tenant_id, env, "render.progress",
                 {"job_id": job_id, "percent": round(fraction * 90, 1), "eta_s": eta,
                  "chunks": [{k: c[k] for k in ("index", "state", "attempts")} for c in chunks][:200]})


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


class FinishDeferred(Exception):
    """The finish hit a transient 5xx and released its claim: hand the message back so the bus redelivers it."""


class Finisher:
    def __init__(self, store: DocumentStore, bus: Bus, blobs: BlobStore,
                 signer: RenderCredentials | None = None) -> None:
        self._store = store
        self._bus = bus
        self._blobs = blobs
        self._credentials = signer  # signs the output (C2PA); None: a deployment without content credentials

    def finish(self, tenant_id: str, env: str, job_id: str, me: str) -> None:
        """Run the job's last steps if ``me`` holds its finish. A transient 5xx releases the claim and raises
        ``FinishDeferred`` (the bus redelivers); any other failure ends the job ``failed``."""
        path = paths.job(tenant_id, env, job_id)
        job = self._store.get(path)
        if job is None or job.data["status"] != "running" or job.data.get("finisher") != me:
            return
        publish_progress(self._store, self._bus, tenant_id, env, job_id)
        work = tempfile.mkdtemp(prefix="render-finish-")
        try:
            self._run(tenant_id, env, job, me, work)
        except render.Cancelled:
            return
        except errors.StudioError as exc:
            if exc.status >= 500 and self._store.run_transaction(lambda tx: _release(tx, path, me)):
                # the blob store (or the store) answering 503 is the edge failing for a moment, not the job:
                # the claim is released and the message goes back to the bus, whose redelivery finishes it
                _log.warning("render finish deferred", extra={"fields": {"job_id": job_id, "error": str(exc)[:300]}})
                raise FinishDeferred(f"the finish of {job_id} hit {exc.code.code}; the bus retries it") from exc
            reason = str(exc.detail or exc)[:500]  # a source gone since the request: no retry brings it back
            self._store.run_transaction(lambda tx: fail_job(tx, path, reason))
        except render.RenderFailed as exc:
            reason = str(getattr(exc, "detail", None) or exc)[:500]
            self._store.run_transaction(lambda tx: fail_job(tx, path, reason))
        except Exception as exc:  # noqa: BLE001 - the job must end, whatever broke
            _log.exception("render finish failed")
            reason = f"the render failed: {type(exc).__name__}: {str(exc)[:300]}"
            self._store.run_transaction(lambda tx: fail_job(tx, path, reason))
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _run(self, tenant_id: str, env: str, job: Document, me: str, work: str) -> None:
        the_plan = job.data["plan"]
        docs = parts.read_all(self._store, tenant_id, env, job.doc_id)
        for d in docs:
            data, _ = self._blobs.get(d.data["object"]["bucket"], d.data["object"]["name"])
            with open(os.path.join(work, d.data["file"]), "wb") as fh:
                fh.write(data)
        runner = render.Runner(work, {}, lambda: False)
        with Watch(self._store, runner, job.path, _renewal(job.path, me)):
            with open(os.path.join(work, "chunks.txt"), "w", encoding="utf-8") as fh:
                fh.writelines(f"file '{name}'\n" for name in the_plan["concat"]["list"])
            runner.ffmpeg(the_plan["concat"]["args"])
            runner.ffmpeg(the_plan["mux"]["args"])
        executed = [list(d.data["executed"]) for d in docs] + runner.executed
        output = str(the_plan["mux"]["output"]).replace("{work}", work)
        self._register(tenant_id, env, job, output, docs, executed)
        for d in docs:  # the parts served their purpose (a crash before this leaves them to the bucket's lifecycle)
            try:
                self._blobs.delete(d.data["object"]["bucket"], d.data["object"]["name"])
            except errors.NotFound:
                pass

    def _register(self, tenant_id: str, env: str, job: Document, output: str, docs: list[Document],
                  executed: list[list[str]]) -> None:
        from studio.media import artifacts
        from studio.media.provenance_data import ref

        the_plan = job.data["plan"]
        found = sources.resolve_all(self._store, tenant_id, env, list(job.data["sources"]))
        parent = next((r.asset for r in found.values() if r.asset is not None), None)
        if parent is None:
            raise render.RenderFailed("a render needs at least one media clip")
        with open(output, "rb") as fh:
            data = fh.read()
        ext = the_plan["container"]
        signed = (self._credentials.sign_render(data, f"video/{ext}", job.data, found) if self._credentials
                  else credentials.Signed(data, None))
        prepared = artifacts.prepare(
            self._blobs, tenant_id, env, parent, kind="render", mime=f"video/{ext}", ext=ext, data=signed.data,
            params={"project_id": job.data["project_id"], "project_rev": job.data["project_rev"],
                    "job_id": job.doc_id},
            width=the_plan["width"], height=the_plan["height"], duration_s=the_plan["duration_s"],
            extra={"tool": "video.render", "codec": the_plan["codec"]}, actor=("tool", "video.render"))
        # the ledger's lineage: every clip's source, not only the parent asset
        prepared.event.data["provenance"]["inputs"] = [
            ref("artifact" if sid.startswith("ar_") else "asset", sid, r.sha256) for sid, r in found.items()
            if not sid.startswith("fn_")]
        credentials.attach(self._blobs, prepared, signed)  # the ledger names the file; a sidecar goes beside it
        chunks = parts.chunk_states(docs)
        elapsed = _seconds_since(job.data.get("started_at"))

        def write(tx: Transaction) -> None:
            current = tx.get(job.path)
            if current is None or current.data["status"] != "running":
                return  # cancelled (or expired) while the last step ran: no artifact
            art = artifacts.commit(tx, prepared)
            tx.put(job.path, dict(current.data, status="done", progress=1.0, eta_s=0.0, chunks=chunks,
                                  artifact_id=art.doc_id, executed=executed, elapsed_s=round(elapsed, 3),
                                  finished_at=utc_now()), expected_rev=current.rev)
            emit(tx, DomainEvent("video.render_finished", tenant_id, env, job.path,
                                 {"job_id": job.doc_id, "status": "done", "artifact_id": art.doc_id}))
            emit_meta(tx, tenant_id, env, "render.result",
                      {"job_id": job.doc_id, "status": "done", "artifact_id": art.doc_id}, subject=job.path)

        self._store.run_transaction(write)


def _release(tx: Transaction, job_path: str, me: str) -> bool:
    """Give up ``me``'s finish of a job still running, so the next delivery of a done part claims it;
    the job's lease covers the bus's backoff (the job's deadline still ends one that never finishes)."""
    job = tx.get(job_path)
    if job is None or job.data.get("finisher") != me or job.data["status"] != "running":
        return False
    tx.put(job_path, dict(job.data, finisher=None, finisher_until=None, lease_until=parts.later(parts.lease_s())),
           expected_rev=job.rev)
    return True


def _renewal(job_path: str, me: str) -> Callable[[Transaction], None]:
    def renew(tx: Transaction) -> None:
        job = tx.get(job_path)
        if job is None or job.data.get("finisher") != me or job.data["status"] != "running":
            return
        later = parts.later(parts.lease_s())
        tx.put(job_path, dict(job.data, finisher_until=later, lease_until=later), expected_rev=job.rev)

    return renew

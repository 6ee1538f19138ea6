"""The chunk worker (topic ``render.chunks``): one message renders one part of a job (a chunk, or the audio
mix) to the blob store, on whichever instance the bus hands it to (decision 0087).

At-least-once safe: a message for a part that is done, or for a job that ended, is acked and does nothing;
one for a part another worker holds under a live lease is handed back (``PartBusy``: the bus retries later,
and by then the part is done or its worker is gone). A failed attempt is handed back too, so the bus
redelivers it with backoff; the third start of a part fails the job with the reason. While ffmpeg runs, a
watcher renews the part's lease and kills ffmpeg once the job is no longer running (cancelled, expired).
The completion that leaves no part unfinished claims the job's finisher in the same transaction: exactly
one worker runs concat + mux + the artifact."""
from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from studio.kernel import errors, logs
from studio.kernel.clock import utc_now
from studio.ports.blobs import BlobStore
from studio.ports.bus import Bus
from studio.ports.store import DocumentStore, Transaction
from studio.video import parts, paths, render, sources
from studio.video.finish import Finisher, default_font, fail_job, publish_progress
from studio.video.watch import Watch

_log = logs.get("studio.video.chunks")


class PartBusy(Exception):
    """Another worker holds the part under a live lease: hand the message back."""


class PartFailed(Exception):
    """This attempt failed and the part has attempts left: hand the message back for a retry."""


def worker_id() -> str:
    """Which instance and thread rendered a part (the job's chunk states show it)."""
    return f"{socket.gethostname()}/{os.getpid()}/{threading.current_thread().name}"


def _fonts(filter_graph: str) -> list[str]:
    return sorted(set(re.findall(r"\{font:(fn_[0-9a-f]{20})\}", filter_graph)))


class PartWorker:
    def __init__(self, store: DocumentStore, bus: Bus, blobs: BlobStore, finisher: Finisher) -> None:
        self._store = store
        self._bus = bus
        self._blobs = blobs
        self._finisher = finisher

    def run(self, tenant_id: str, env: str, job_id: str, name: str) -> None:
        me = worker_id()
        claimed = self._store.run_transaction(lambda tx: self._claim(tx, tenant_id, env, job_id, name, me))
        if claimed == "busy":
            raise PartBusy(f"part {name} of {job_id} is held by another worker")
        if claimed == "done":  # a redelivery after the part was done: the finish may still be owed
            if self._store.run_transaction(lambda tx: self._complete(tx, tenant_id, env, job_id, name, me, None)):
                self._finisher.finish(tenant_id, env, job_id, me)
            return
        if not isinstance(claimed, int):
            return  # the job ended (or never fanned out): nothing to do
        publish_progress(self._store, self._bus, tenant_id, env, job_id)
        job_path = paths.job(tenant_id, env, job_id)
        job = self._store.get(job_path)
        if job is None:
            return
        the_step = parts.step(job.data["plan"], name)
        work = tempfile.mkdtemp(prefix="render-part-")
        started = time.monotonic()
        try:
            runner = self._runner(tenant_id, env, the_step, work)
            renew = _renewal(paths.part(tenant_id, env, job_id, name), me, claimed)
            with Watch(self._store, runner, job_path, renew):
                runner.write_files(the_step.get("files") or {})
                runner.ffmpeg(the_step["args"])
            output = str(the_step["output"]).replace("{work}", work)
            file_name = os.path.basename(str(the_step["output"]))
            with open(output, "rb") as fh:
                info = self._blobs.put("media", paths.part_object(tenant_id, env, job_id, file_name), fh.read())
            done = {"object": {"bucket": info.bucket, "name": info.name, "generation": info.generation},
                    "file": file_name, "executed": the_step["args"], "seconds": round(time.monotonic() - started, 3)}
            last = self._store.run_transaction(lambda tx: self._complete(tx, tenant_id, env, job_id, name, me, done))
        except render.Cancelled:
            return  # the job ended while this part ran: its end is written already
        except errors.StudioError as exc:
            if exc.status >= 500:  # the blob store or the store answering 503: the bus retries the part
                self._failed(tenant_id, env, job_id, name, claimed, str(exc.detail or exc))
                return
            reason = str(exc.detail or exc)[:500]  # a source gone since the request: no retry brings it back
            self._store.run_transaction(lambda tx: fail_job(tx, job_path, reason))
            return
        except Exception as exc:  # noqa: BLE001 - ffmpeg failed, or the blob store did: the bus retries the part
            if not isinstance(exc, render.RenderFailed):
                _log.exception("render part broke")
            self._failed(tenant_id, env, job_id, name, claimed, str(exc) or type(exc).__name__)
            return
        finally:
            shutil.rmtree(work, ignore_errors=True)
        publish_progress(self._store, self._bus, tenant_id, env, job_id)
        if last:
            self._finisher.finish(tenant_id, env, job_id, me)

    def _runner(self, tenant_id: str, env: str, the_step: dict[str, Any], work: str) -> render.Runner:
        ids = sorted({i["source"] for i in the_step["inputs"]} | set(_fonts(str(the_step["filter"]))))
        files = sources.fetch(self._blobs, sources.resolve_all(self._store, tenant_id, env, ids), work)
        files["{font:default}"] = default_font()
        return render.Runner(work, files, lambda: False)

    # -- transactions -----------------------------------------------------------------------
    def _claim(self, tx: Transaction, tenant_id: str, env: str, job_id: str, name: str, me: str) -> str | int:
        job = tx.get(paths.job(tenant_id, env, job_id))
        part = tx.get(paths.part(tenant_id, env, job_id, name))
        if job is None or part is None or job.data["status"] != "running":
            return "gone"
        now = utc_now()
        state = part.data["state"]
        if state == "done":
            return "done"
        if state == "running" and str(part.data.get("lease_until") or "") > now:
            return "busy"
        attempts = int(part.data["attempts"]) + 1
        if attempts > parts.ATTEMPTS:
            reason = part.data.get("error") or "its worker stopped"
            fail_job(tx, job.path, f"chunk {name} did not finish in {parts.ATTEMPTS} attempts ({reason})"[:500])
            return "gone"
        tx.put(part.path, dict(part.data, state="running", attempts=attempts, worker=me, started_at=now,
                               lease_until=parts.later(parts.lease_s())), expected_rev=part.rev)
        tx.put(job.path, parts.moved(job.data, part.data, "running", attempts), expected_rev=job.rev)
        return attempts

    def _complete(self, tx: Transaction, tenant_id: str, env: str, job_id: str, name: str, me: str,
                  done: dict[str, Any] | None) -> bool:
        """Mark the part done (``done``: its output); True when this call claimed the job's finish."""
        job = tx.get(paths.job(tenant_id, env, job_id))
        part = tx.get(paths.part(tenant_id, env, job_id, name))
        if job is None or part is None or job.data["status"] != "running":
            return False
        others = [d for d in parts.unfinished(tx, tenant_id, env, job_id, 2) if d.data["name"] != name]
        now = utc_now()
        claim = not others and str(job.data.get("finisher_until") or "") <= now
        job_data = job.data
        if done is not None and part.data["state"] != "done":
            tx.put(part.path, dict(part.data, state="done", worker=me, lease_until=None, finished_at=now, **done),
                   expected_rev=part.rev)
            job_data = parts.moved(job_data, part.data, "done", int(part.data["attempts"]))
        elif part.data["state"] != "done":
            return False
        if claim:  # every part is done and nobody (alive) is finishing: this worker does
            job_data = dict(job_data, finisher=me, finisher_until=parts.later(parts.lease_s()),
                            lease_until=parts.later(parts.lease_s()))
        if job_data is not job.data:  # the tally and the claim: one write of the job
            tx.put(job.path, job_data, expected_rev=job.rev)
        return claim

    def _failed(self, tenant_id: str, env: str, job_id: str, name: str, attempt: int, error: str) -> None:
        _log.warning("render part failed", extra={"fields": {"job_id": job_id, "part": name, "attempt": attempt,
                                                               "error": error[:500]}})

        def write(tx: Transaction) -> bool:
            part = tx.get(paths.part(tenant_id, env, job_id, name))
            job = tx.get(paths.job(tenant_id, env, job_id))
            if part is None or job is None or job.data["status"] != "running":
                return False
            if attempt >= parts.ATTEMPTS:
                fail_job(tx, job.path, f"chunk {name} failed {attempt} times")  # ffmpeg's words: in the log
                return False
            # the lease covers the bus's backoff, so the job does not look abandoned meanwhile
            tx.put(part.path, dict(part.data, state="failed", error=error[:300],
                                   lease_until=parts.later(parts.lease_s())), expected_rev=part.rev)
            tx.put(job.path, parts.moved(job.data, part.data, "failed", int(part.data["attempts"])),
                   expected_rev=job.rev)
            return True

        retry = self._store.run_transaction(write)
        publish_progress(self._store, self._bus, tenant_id, env, job_id)
        if retry:
            raise PartFailed(f"part {name} of {job_id} failed (attempt {attempt}); the bus retries it")


def _renewal(part_path: str, me: str, attempt: int) -> Callable[[Transaction], None]:
    def renew(tx: Transaction) -> None:
        part = tx.get(part_path)
        if part is None or part.data.get("worker") != me or part.data.get("attempts") != attempt:
            return  # another worker took it over: its lease is its own
        tx.put(part.path, dict(part.data, lease_until=parts.later(parts.lease_s())), expected_rev=part.rev)

    return renew

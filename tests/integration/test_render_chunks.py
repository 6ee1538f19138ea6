"""Render chunks shared across instances (decision 0087), with Debian's ffmpeg and the real SQLite bus:
one ``render.chunks`` message per part; two consumers (a pool's threads, and a second worker process)
share one job; a worker process killed mid-chunk does not stop the job; a chunk that fails once is
retried by the bus and one that keeps failing fails the job; cancel stops chunks in flight; a duplicate
chunk message is harmless."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.kernel.events import DomainEvent, emit
from tests.support import media_samples as samples
from tests.support.api import User
from tests.support.platform import RunningPlatform

pytestmark = pytest.mark.usefixtures("media_tools")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHUNK_SUB = "fn-render_chunk_worker"


def _start_job(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], tenant: str, seconds: float,
               change: Callable[[dict[str, Any]], None] | None = None) -> str:
    """A render of a ``seconds`` clip in 1 s chunks; ``change``, if given, edits each chunk step of the stored
    plan before any chunk runs (a slow or broken chunk, as a real one would be)."""
    r = c.post("/media-v2/assets", files={"file": ("c.mp4", samples.clip(seconds, 320, 240), "video/mp4")}, headers=h)
    assert r.status_code in (201, 202), r.text
    platform.drain()
    tl = {"tracks": [{"id": "v", "kind": "video", "clips": [{"id": "a", "source": r.json()["id"], "in": 0,
                                                              "out": seconds}]}],
          "output": {"width": 320, "height": 240, "chunk_seconds": 1.0}}
    p = c.post("/video/projects", json={"name": "chunks", "timeline": tl}, headers=h)
    assert p.status_code == 201, p.text
    job = c.post("/video/render", json={"project_id": p.json()["id"], "rev": p.json()["rev"]}, headers=h)
    assert job.status_code == 202, job.text
    job_id = str(job.json()["id"])
    if change is not None:
        _edit_plan(platform, tenant, job_id, change)
    return job_id


def _job_path(tenant: str, job_id: str) -> str:
    return f"tenants/{tenant}/envs/dev/render_jobs/{job_id}"


def _edit_plan(platform: RunningPlatform, tenant: str, job_id: str, change: Callable[[dict[str, Any]], None]) -> None:
    store = platform.deps.store
    doc = store.get(_job_path(tenant, job_id))
    assert doc is not None and doc.data["status"] == "queued"
    the_plan = json.loads(json.dumps(doc.data["plan"]))
    for chunk in the_plan["chunks"]:
        change(chunk)
    store.put(doc.path, dict(doc.data, plan=the_plan), expected_rev=doc.rev)


def _slow(chunk: dict[str, Any]) -> None:
    chunk["args"] = [a for x in chunk["args"] for a in (["-re", x] if x == "-i" else [x])]  # real-time input


def _fan_out(platform: RunningPlatform) -> None:
    """Deliver render.jobs and relay the chunk messages it publishes, but run no chunk here."""
    delivery = platform.platform.delivery
    for _ in range(3):
        delivery.relay_outbox()
        for d in platform.deps.bus.pull("fn-render_worker", 10):
            delivery._handle(*delivery._handlers["fn-render_worker"], d)


def _wait_ended(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], job_id: str,
                timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        platform.drain()
        job = c.get(f"/video/render/jobs/{job_id}", headers=h).json()
        if job["status"] in ("done", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end: {job}")


def _parts(platform: RunningPlatform, tenant: str, job_id: str) -> dict[str, dict[str, Any]]:
    from studio.video import parts

    return {d.data["name"]: d.data for d in parts.read_all(platform.deps.store, tenant, "dev", job_id)}


@pytest.fixture()
def short_leases(platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A 2 s part lease and a 3 s ack deadline on the chunk subscription, so a vanished worker's
    chunk comes back in seconds, not minutes; restored afterwards."""
    monkeypatch.setenv("STUDIO_RENDER_LEASE_S", "2")
    monkeypatch.setenv("STUDIO_RENDER_REDELIVERY_S", "20")
    monkeypatch.setenv("STUDIO_BUS_ACK_DEADLINE_S", "3")  # a worker process declares the subscription too
    bus = platform.deps.bus
    bus.subscribe(CHUNK_SUB, "render.chunks", max_attempts=5, ack_deadline_s=3,
                  dead_letter_topic="render.chunks.dead-letter")
    yield
    bus.subscribe(CHUNK_SUB, "render.chunks", max_attempts=5, ack_deadline_s=platform.deps.settings.bus_ack_deadline_s,
                  dead_letter_topic="render.chunks.dead-letter")


@contextlib.contextmanager
def _worker_process(platform: RunningPlatform, log_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A second instance of the chunk worker on the session platform's data folder and bus settings. Its
    whole output goes to a file that is printed into this test's output at the end, so a worker that failed
    says why. Stopped with SIGTERM at the end (its process group killed after), unless the block killed it."""
    settings = platform.deps.settings
    env = {**os.environ, "STUDIO_DATA_DIR": str(settings.data_dir), "STUDIO_LLM": "echo",
           "STUDIO_PUBLIC_URL": platform.base_url,
           "STUDIO_RENDER_LEASE_S": os.environ.get("STUDIO_RENDER_LEASE_S", "120"),
           "STUDIO_BUS_BACKOFF_BASE_S": str(settings.bus_backoff_base_s),
           "STUDIO_BUS_ACK_DEADLINE_S": os.environ.get("STUDIO_BUS_ACK_DEADLINE_S", str(settings.bus_ack_deadline_s))}
    log_path = log_dir / "chunk-worker.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "infra.localrun.event_worker", "render_chunk_worker"], cwd=REPO,
                                env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own group: its ffmpegs too
    try:
        deadline = time.monotonic() + 60
        while b"event worker" not in log_path.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of its group is left (an ffmpeg)
        proc.wait(timeout=10)
        print(f"--- chunk worker {proc.pid}, exit {proc.returncode} ---\n{log_path.read_text(errors='replace')}")


def _blob_put_fails_once(platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch,
                         hit: Callable[[str], bool]) -> list[str]:
    """Cloud Storage answering 503 (gcs_blobs raises Unavailable) for the first object name ``hit`` picks: the
    machine's edge failing for a moment. Returns the list the failed name is appended to."""
    from studio.kernel import errors

    blobs = platform.deps.blobs
    real_put = blobs.put
    outages: list[str] = []

    def put_once_unavailable(bucket: str, name: str, *args: Any, **kw: Any) -> Any:
        if hit(name) and not outages:
            outages.append(name)
            raise errors.Unavailable("Cloud Storage upload: 503 ServiceUnavailable")
        return real_put(bucket, name, *args, **kw)

    monkeypatch.setattr(blobs, "put", put_once_unavailable)
    return outages


def test_two_consumers_share_a_job_and_a_duplicate_message_is_harmless(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str, tmp_path: Path) -> None:
    h = owner.in_tenant(tenant)
    job_id = _start_job(client, platform, h, tenant, 4.0, _slow)  # ~1 s a chunk: both consumers get some
    with _worker_process(platform, tmp_path) as other:
        _fan_out(platform)
        job = _wait_ended(client, platform, h, job_id)
    assert job["status"] == "done", job
    assert len(job["chunks"]) == 4 and all(c["state"] == "done" and c["attempts"] == 1 for c in job["chunks"])
    pids = {c["worker"].split("/")[1] for c in job["chunks"]} | {_parts(platform, tenant, job_id)["audio"]["worker"]
                                                                    .split("/")[1]}
    assert {str(os.getpid()), str(other.pid)} <= pids, pids  # this process's pool and the other process both rendered

    # the same chunk's message again (a redelivery): acked, nothing changes
    store = platform.deps.store
    before = store.get(_job_path(tenant, job_id))
    assert before is not None
    store.run_transaction(lambda tx: emit(tx, DomainEvent("video.render_chunk_queued", tenant, "dev", before.path + "/render_parts/0001",
                                                          {"job_id": job_id, "part": "0001"}), topic="render.chunks"))
    acked = platform.deps.bus.stats(CHUNK_SUB)["acked"]
    platform.drain()
    after = store.get(before.path)
    assert after is not None and after.rev == before.rev and after.data["artifact_id"] == before.data["artifact_id"]
    assert platform.deps.bus.stats(CHUNK_SUB)["acked"] == acked + 1


@pytest.mark.usefixtures("short_leases")
def test_a_chunk_worker_killed_mid_chunk_does_not_stop_the_job(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str, tmp_path: Path) -> None:
    h = owner.in_tenant(tenant)
    job_id = _start_job(client, platform, h, tenant, 3.0, _slow)
    with _worker_process(platform, tmp_path) as victim:
        _fan_out(platform)
        deadline = time.monotonic() + 20
        held: list[str] = []
        while not held and time.monotonic() < deadline:
            held = [n for n, p in _parts(platform, tenant, job_id).items()
                    if p["state"] == "running" and f"/{victim.pid}/" in p.get("worker", "")]
            time.sleep(0.05)
        assert held, json.dumps(["never took a chunk", victim.pid, {n: (p["state"], p.get("worker")) for n, p in _parts(platform, tenant, job_id).items()}, platform.deps.bus.stats(CHUNK_SUB)])
        os.killpg(victim.pid, signal.SIGKILL)  # the instance and its ffmpeg children, mid-chunk
        victim.wait(timeout=10)
    job = _wait_ended(client, platform, h, job_id)
    assert job["status"] == "done", json.dumps([job.get("error"), {n: (p["state"], p.get("worker"), p.get("lease_until"), p["attempts"]) for n, p in _parts(platform, tenant, job_id).items()}, job.get("finished_at")])
    parts = _parts(platform, tenant, job_id)
    for name in held:  # taken over once the lease and the bus's ack deadline ran out
        assert parts[name]["state"] == "done" and parts[name]["attempts"] == 2
        assert f"/{os.getpid()}/" in parts[name]["worker"]


def test_a_chunk_that_fails_once_is_retried_and_one_that_keeps_failing_fails_the_job(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str, tmp_path: Path) -> None:
    h = owner.in_tenant(tenant)
    late = str(tmp_path / "late.mp4")

    def late_input(chunk: dict[str, Any]) -> None:  # chunk 1 reads a file that appears only later
        if chunk["index"] == 1:
            chunk["args"] = [late if a.startswith("{src:") else a for a in chunk["args"]]

    job_id = _start_job(client, platform, h, tenant, 3.0, late_input)
    _fan_out(platform)
    delivery = platform.platform.delivery
    for d in platform.deps.bus.pull(CHUNK_SUB, 10):  # each part once, here: chunk 1 fails and goes back to the bus
        delivery._handle(*delivery._handlers[CHUNK_SUB], d)
    parts = _parts(platform, tenant, job_id)
    assert parts["0001"]["state"] == "failed" and parts["0001"]["attempts"] == 1, parts["0001"]
    assert client.get(f"/video/render/jobs/{job_id}", headers=h).json()["status"] == "running"
    with open(late, "wb") as fh:
        fh.write(samples.clip(3.0, 320, 240))
    job = _wait_ended(client, platform, h, job_id)
    assert job["status"] == "done", job
    assert [c["attempts"] for c in job["chunks"]] == [1, 2, 1]

    never = str(tmp_path / "never.mp4")
    job_id = _start_job(client, platform, h, tenant, 3.0, lambda c: c.update(
        args=[never if a.startswith("{src:") else a for a in c["args"]]) if c["index"] == 2 else None)
    job = _wait_ended(client, platform, h, job_id)
    assert job["status"] == "failed" and job["error"] == "chunk 0002 failed 3 times", job
    assert "artifact_id" not in job


def test_cancel_stops_the_chunks_in_flight(client: httpx.Client, platform: RunningPlatform, owner: User,
                                           tenant: str) -> None:
    h = owner.in_tenant(tenant)

    def very_slow(chunk: dict[str, Any]) -> None:  # each chunk reads a minute of input in real time
        chunk["args"] = [a for x in chunk["args"] for a in (["-re", "-stream_loop", "-1", x] if x == "-i" else [x])]
        chunk["args"][chunk["args"].index("-frames:v") + 1] = "100000"
        t = chunk["args"].index("-t")
        chunk["args"][t + 1] = "60"

    job_id = _start_job(client, platform, h, tenant, 4.0, very_slow)
    drained = threading.Thread(target=platform.drain, daemon=True)
    drained.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sum(p["state"] == "running"
                                              for p in _parts(platform, tenant, job_id).values()) < 2:
        time.sleep(0.05)
    running = [n for n, p in _parts(platform, tenant, job_id).items() if p["state"] == "running"]
    assert len(running) == 2, running  # the pool's two threads, each in an ffmpeg
    cancelled_at = time.monotonic()
    r = client.post(f"/video/render/jobs/{job_id}/cancel", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    drained.join(timeout=30)
    assert not drained.is_alive() and time.monotonic() - cancelled_at < 15  # the ffmpegs were killed, not waited
    job = client.get(f"/video/render/jobs/{job_id}", headers=h).json()
    assert job["status"] == "cancelled" and "artifact_id" not in job
    assert all(p["state"] != "done" for p in _parts(platform, tenant, job_id).values() if p["kind"] == "chunk")


def test_a_blob_store_outage_while_a_chunk_uploads_is_retried_not_a_failed_job(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the part goes back to the bus like an ffmpeg failure, it does not end the job "failed"
    h = owner.in_tenant(tenant)
    job_id = _start_job(client, platform, h, tenant, 2.0)
    outages = _blob_put_fails_once(platform, monkeypatch, lambda name: f"/{job_id}/" in name)
    job = _wait_ended(client, platform, h, job_id)
    assert outages, "the outage was never hit"
    assert job["status"] == "done", job
    retried = [p for p in _parts(platform, tenant, job_id).values() if p["file"] == outages[0].rsplit("/", 1)[1]]
    assert [p["attempts"] for p in retried] == [2], retried


def test_a_blob_store_outage_while_the_finisher_uploads_is_retried_not_a_failed_job(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # on the render's own upload: the finisher releases its claim and hands the message back, and the
    # redelivery of the done part claims the finish again and ends the job "done"
    h = owner.in_tenant(tenant)
    job_id = _start_job(client, platform, h, tenant, 2.0)
    outages = _blob_put_fails_once(platform, monkeypatch, lambda name: name.startswith(f"{tenant}/dev/")
                                   and "/render-work/" not in name and "/artifacts/" in name)
    job = _wait_ended(client, platform, h, job_id)
    assert outages, "the finisher's upload was never hit"
    assert job["status"] == "done", job
    from studio.media import paths as media_paths
    from studio.ports.store import Query

    found = platform.deps.store.query(Query(media_paths.artifacts(tenant, "dev"), [], limit=100)).docs
    renders = [a for a in found if a.data["kind"] == "render" and a.data["params"].get("job_id") == job_id]
    assert [a.doc_id for a in renders] == [job["artifact_id"]], renders

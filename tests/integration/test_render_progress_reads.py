"""A render progress update reads the job document alone (decision 0101): the parts' tally and chunk states
move onto the job in the transaction that moves each part, so the meta event's cost does not grow with
the number of parts. Real SQLite store and bus; the store's reads are counted by sqlite3's own statement
trace on the connection the update runs on."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from studio.adapters.local_blobs import LocalBlobStore
from studio.adapters.sqlite_bus import SqliteBus
from studio.adapters.sqlite_store import SqliteStore
from studio.kernel.meta import TOPIC
from studio.video import parts, paths
from studio.video.finish import Finisher, publish_progress
from studio.video.jobs import RenderJobs
from studio.video.part_worker import PartWorker
from studio.video.projects import ProjectService

TENANT, ENV = "t_progress01", "dev"


class World:
    def __init__(self, tmp: Path) -> None:
        self.store = SqliteStore(tmp / "store.db")
        self.bus = SqliteBus(tmp / "bus.db")
        self.bus.subscribe("probe", TOPIC)
        blobs = LocalBlobStore(tmp / "blobs", base_url="http://127.0.0.1:1", signing_key=b"k" * 32)
        self.jobs = RenderJobs(self.store, self.bus, blobs, ProjectService(self.store))
        self.worker = PartWorker(self.store, self.bus, blobs, Finisher(self.store, self.bus, blobs))

    def fanned_out(self, job_id: str, chunks: int) -> None:
        """A queued job of ``chunks`` chunks (and the audio mix), fanned out by the render worker's own code."""
        plan = {"chunks": [{"index": i} for i in range(chunks)], "audio": {"inputs": []}}
        self.store.put(paths.job(TENANT, ENV, job_id), {
            "status": "queued", "plan": plan, "progress": 0.0, "created_at": "2026-01-01T00:00:00Z",
            "chunks": [{"index": i, "state": "queued", "attempts": 0} for i in range(chunks)]})
        self.jobs.start(TENANT, ENV, job_id)

    def claim(self, job_id: str, name: str) -> Any:
        return self.store.run_transaction(lambda tx: self.worker._claim(tx, TENANT, ENV, job_id, name, "w1"))  # noqa: SLF001

    def complete(self, job_id: str, name: str) -> Any:
        done = {"object": {"bucket": "media", "name": name, "generation": 1}, "file": name, "executed": [], "seconds": 0.1}
        return self.store.run_transaction(
            lambda tx: self.worker._complete(tx, TENANT, ENV, job_id, name, "w1", done))  # noqa: SLF001

    def progress_events(self) -> list[dict[str, Any]]:
        return [json.loads(d.message.data)["data"] for d in self.bus.pull("probe", 100)]


@pytest.fixture()
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _statements(store: SqliteStore, job_id: str, world: World) -> list[str]:
    """The SQL one progress update runs on this thread's store connection."""
    seen: list[str] = []
    conn = store._conn()  # noqa: SLF001 - the adapter's own sqlite3 connection for this thread
    conn.set_trace_callback(seen.append)
    try:
        publish_progress(store, world.bus, TENANT, ENV, job_id)
    finally:
        conn.set_trace_callback(None)
    return seen


def test_a_progress_update_reads_one_document_however_many_parts(world: World) -> None:
    reads = {}
    for job_id, chunks in (("rj_small0000000001", 3), ("rj_large0000000001", 620)):
        world.fanned_out(job_id, chunks)
        for index in range(0, chunks, 2):  # a half-done job: parts in every state
            name = parts.chunk_name(index)
            assert world.claim(job_id, name) == 1
            if index % 4 == 0:
                world.complete(job_id, name)
        sql = _statements(world.store, job_id, world)
        reads[chunks] = [s for s in sql if s.lstrip().upper().startswith("SELECT")]
    assert len(reads[3]) == len(reads[620]) == 1, reads  # one read of the job: O(1), not one page per 500 parts
    assert "render_parts" not in reads[620][0]


def test_the_tally_on_the_job_matches_its_parts_at_every_step(world: World) -> None:
    job_id = "rj_tally000000001"
    world.fanned_out(job_id, 5)
    world.progress_events()  # the fan-out's own events

    def check() -> dict[str, Any]:
        job = world.store.get(paths.job(TENANT, ENV, job_id))
        assert job is not None
        docs = parts.read_all(world.store, TENANT, ENV, job_id)
        counted = Counter(d.data["state"] for d in docs)
        assert job.data["part_counts"] == {s: counted.get(s, 0) for s in ("queued", "running", "failed", "done")}
        states = [{k: c[k] for k in ("index", "state", "attempts")} for c in parts.chunk_states(docs)]
        assert job.data["chunks"] == states  # the chunk states the meta event lists, kept on the job
        publish_progress(world.store, world.bus, TENANT, ENV, job_id)
        [event] = world.progress_events()
        done = counted.get("done", 0)
        assert event["percent"] == round(done / len(docs) * 90, 1) and event["chunks"] == states
        return dict(job.data)

    assert check()["part_counts"] == {"queued": 6, "running": 0, "failed": 0, "done": 0}
    world.claim(job_id, "0000")
    world.claim(job_id, parts.AUDIO)
    check()
    world.complete(job_id, "0000")
    # a redelivered completion of a done part moves nothing
    world.store.run_transaction(lambda tx: world.worker._complete(tx, TENANT, ENV, job_id, "0000", "w1", None))  # noqa: SLF001
    assert check()["part_counts"] == {"queued": 4, "running": 1, "failed": 0, "done": 1}
    world.claim(job_id, "0001")
    with pytest.raises(Exception, match="failed"):  # PartFailed: the bus retries it
        world.worker._failed(TENANT, ENV, job_id, "0001", 1, "ffmpeg said no")  # noqa: SLF001
    world.progress_events()  # _failed publishes its own update
    assert check()["part_counts"] == {"queued": 3, "running": 1, "failed": 1, "done": 1}
    assert world.claim(job_id, "0001") == 2  # the retry: failed -> running, attempts counted
    assert check()["chunks"][1] == {"index": 1, "state": "running", "attempts": 2}
    for name in ("0001", "0002", "0003", "0004", parts.AUDIO):
        if name not in ("0001", parts.AUDIO):
            world.claim(job_id, name)
        last = world.complete(job_id, name)
    assert last is True  # the last completion claimed the finish, in the same write as the tally
    final = check()
    assert final["part_counts"] == {"queued": 0, "running": 0, "failed": 0, "done": 6} and final["finisher"] == "w1"


def test_a_job_fanned_out_before_the_tally_still_reports_from_its_parts(world: World) -> None:
    job_id = "rj_legacy00000001"
    world.fanned_out(job_id, 2)
    path = paths.job(TENANT, ENV, job_id)
    job = world.store.get(path)
    assert job is not None
    world.store.put(path, {k: v for k, v in job.data.items() if k != "part_counts"})  # as an older worker left it
    world.claim(job_id, "0000")
    world.complete(job_id, "0000")
    assert "part_counts" not in (world.store.get(path) or job).data  # no half tally invented
    world.progress_events()
    publish_progress(world.store, world.bus, TENANT, ENV, job_id)
    [event] = world.progress_events()
    assert event["percent"] == round(1 / 3 * 90, 1)
    assert [c["state"] for c in event["chunks"]] == ["done", "queued"]

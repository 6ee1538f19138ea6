"""A render job's parts: one document per chunk and one for the audio mix, under the job
(``render_jobs/{id}/render_parts/{name}``). Each chunk worker writes only its own part's document, so
instances that share a job never contend on one hot job document (decision 0087); the job document is
written at fan-out, when the finisher claims it, and at the end.

A part is ``queued`` -> ``running`` (a worker holds it under a lease it renews) -> ``done`` (its output in
the blob store), or ``failed`` between attempts; its ``attempts`` count every start, including one whose
worker was killed.

The job document keeps a tally of its parts (``part_counts``: how many are queued, running, failed and
done) and each chunk's state and attempts (``chunks``), moved in the transaction that moves a part
(``moved``): a progress update reads the job alone, however many parts it has (decision 0101)."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.kernel.clock import utc_now
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction
from studio.video import paths

AUDIO = "audio"
ATTEMPTS = 3  # starts of one part before the job fails
UNFINISHED = ["queued", "running", "failed"]
PAGE = 500


def lease_s() -> float:
    """How long a part (or the finisher) stays held without its worker renewing it."""
    return float(os.environ.get("STUDIO_RENDER_LEASE_S", "120"))


def later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def chunk_name(index: int) -> str:
    return f"{index:04d}"


def names(plan: dict[str, Any]) -> list[str]:
    return [chunk_name(c["index"]) for c in plan["chunks"]] + [AUDIO]


def step(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """The plan step a part runs: a chunk, or the audio mix."""
    return dict(plan["audio"]) if name == AUDIO else dict(plan["chunks"][int(name)])


def new_doc(plan: dict[str, Any], job_id: str, name: str) -> dict[str, Any]:
    return {"job_id": job_id, "name": name, "order": len(plan["chunks"]) if name == AUDIO else int(name),
            "kind": "audio" if name == AUDIO else "chunk", "state": "queued", "attempts": 0}


def initial_counts(total: int) -> dict[str, int]:
    """The tally of a job just fanned out: every part queued."""
    return {"queued": total, "running": 0, "failed": 0, "done": 0}


def moved(job_data: dict[str, Any], part_data: dict[str, Any], state: str, attempts: int) -> dict[str, Any]:
    """The job document's data once one part (``part_data``, as it was) moves to ``state`` with
    ``attempts``: its tally and, for a chunk, its entry in ``chunks``. A job fanned out before the tally
    existed has none: it is left without one (publish_progress then reads its parts, as it did)."""
    out = dict(job_data)
    counts = job_data.get("part_counts")
    if isinstance(counts, dict) and part_data["state"] != state:
        tally = dict(counts)
        tally[part_data["state"]] = max(0, int(tally.get(part_data["state"], 0)) - 1)
        tally[state] = int(tally.get(state, 0)) + 1
        out["part_counts"] = tally
    if part_data["kind"] == "chunk" and isinstance(job_data.get("chunks"), list):
        index = int(part_data["order"])
        out["chunks"] = [dict(c, state=state, attempts=attempts) if c.get("index") == index else c
                         for c in job_data["chunks"]]
    return out


def read_all(store: DocumentStore, tenant_id: str, env: str, job_id: str) -> list[Document]:
    """Every part of a job, in plan order (chunks, then the audio mix)."""
    out: list[Document] = []
    cursor: str | None = None
    while True:
        page = store.query(Query(paths.parts(tenant_id, env, job_id), [], [("order", "asc")], PAGE, cursor))
        out.extend(page.docs)
        cursor = page.next_cursor
        if not cursor:
            return out


def unfinished(tx: Transaction, tenant_id: str, env: str, job_id: str, limit: int) -> list[Document]:
    """Parts not yet done (read in ``tx``, so two last completions cannot both miss each other)."""
    return tx.query(Query(paths.parts(tenant_id, env, job_id), [Filter("state", "in", UNFINISHED)],
                          limit=limit)).docs


def redelivery_s() -> float:
    """How long after a part's lease ran out its message may still come back from the bus (a worker killed
    mid-part acks nothing: Pub/Sub redelivers once the ack deadline passes, at most 600 s)."""
    return float(os.environ.get("STUDIO_RENDER_REDELIVERY_S", "600"))


def live(docs: list[Document], now: str | None = None) -> bool:
    """Someone still works on the job: a part waits in the bus (queued, or failed and backing off), a
    worker's lease on one runs, or one whose worker vanished may still be redelivered."""
    cutoff = (datetime.fromisoformat((now or utc_now()).replace("Z", "+00:00"))
              - timedelta(seconds=redelivery_s())).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return any(d.data["state"] in ("queued", "failed") or str(d.data.get("lease_until") or "") > cutoff for d in docs)


def chunk_states(docs: list[Document]) -> list[dict[str, Any]]:
    """The job view's and the progress event's ``chunks``: the video chunks' states (the audio mix apart)."""
    keys = ("state", "attempts", "worker", "seconds")
    return [{"index": d.data["order"]} | {k: d.data[k] for k in keys if d.data.get(k) is not None}
            for d in docs if d.data["kind"] == "chunk"]

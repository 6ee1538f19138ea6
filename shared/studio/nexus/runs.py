"""Runs: each ingest and each index rebuild (a change of model) as a record with status and counts.

A run is written in the same transaction as the event that starts it and as each event that moves
it on (``nexus.ingest_requested`` ... ``nexus.doc_ingested``), so the list is the event log's view
of the work, read with one ordered query that Firestore and SQLite both serve.
"""
from __future__ import annotations

import secrets
from typing import Any, Literal

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.nexus import paths
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

RunKind = Literal["ingest", "reembed"]


def new_run_id() -> str:
    return "nr_" + secrets.token_hex(8)


def run_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "kind": d["kind"], "status": d["status"], "doc_id": d.get("doc_id"),
            "model": d.get("model"), "counts": d.get("counts", {}), "error": d.get("error"),
            "created_at": d["created_at"], "started_at": d.get("started_at"), "finished_at": d.get("finished_at")}


def start(tx: Transaction, tenant_id: str, env: str, run_id: str, kind: RunKind, *, doc_id: str | None = None,
          model: str | None = None, **fields: Any) -> None:
    """Create the run (``fields``: more of it, e.g. a run refused at once: status, error, finished_at)."""
    tx.create(paths.run(tenant_id, env, run_id), {"kind": kind, "status": "queued", "doc_id": doc_id, "model": model,
                                                  "counts": {}, "created_at": utc_now(), **fields})


def update(tx: Transaction, tenant_id: str, env: str, run_id: str, **fields: Any) -> None:
    path = paths.run(tenant_id, env, run_id)
    doc = tx.get(path)
    if doc is None:
        return  # a run record is a report: a missing one is not the work's failure
    tx.put(path, {**doc.data, **fields})


class RunService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def list_runs(self, ctx: RequestContext, kind: str | None, limit: int, page_token: str | None) -> dict[str, Any]:
        filters = [Filter("kind", "==", kind)] if kind else []
        page = self._store.query(Query(paths.runs(ctx.tenant_id, ctx.env), filters, [("created_at", "desc")], limit,
                                       page_token))
        return {"runs": [run_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def get(self, ctx: RequestContext, run_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.run(ctx.tenant_id, ctx.env, run_id))
        if doc is None:
            raise errors.NotFound("no such run")
        return run_view(doc)

"""The ingest worker (function ``nexus_ingest``): a queued document becomes atoms and cards.

Cut the text into atoms (atoms.py, the tenant's chunking settings), embed each atom's card for every
slot the index needs, reporting progress on the tenant's meta channel (``nexus.ingest_progress``),
then in ONE transaction: the atoms document (with the ingest's status: the raw document itself is the
user's, and its rev moves only with their writes), the document's cards (created, replaced, or deleted
when the new text has fewer atoms), the run, the index generation and the events. A reader sees the old atoms and cards or the new ones, never a mix. Redelivery-safe:
a run that is not the document's latest, or already finished, is skipped.
"""
from __future__ import annotations

import time
from typing import Any

from studio.kernel import errors, logs
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta, publish_meta
from studio.nexus import index_state, paths, runs
from studio.nexus.atoms import Atom, cut
from studio.nexus.cards import card_data
from studio.nexus.embedding import card_text, vectors_for
from studio.nexus.errors import NEXUS_DOCUMENT_TOO_LARGE
from studio.nexus.raw_docs import MAX_ATOMS
from studio.nexus.settings import SettingsService
from studio.ports.bus import Bus
from studio.ports.embeddings import Embedder
from studio.ports.store import DocumentStore, Filter, Query, Transaction

_log = logs.get("studio.nexus")
BATCH = 32
INGEST_AGENT = {"kind": "agent", "id": "nexus.ingest"}


def atom_card_id(doc_id: str, n: int) -> str:
    return f"cd_{doc_id}_{n:04d}"


class IngestWorker:
    def __init__(self, store: DocumentStore, bus: Bus, embedder: Embedder, settings: SettingsService) -> None:
        self._store = store
        self._bus = bus
        self._embedder = embedder
        self._settings = settings

    def ingest(self, tenant_id: str, env: str, doc_id: str, run_id: str) -> dict[str, Any] | None:
        raw = self._store.get(paths.raw_doc(tenant_id, env, doc_id))
        run = self._store.get(paths.run(tenant_id, env, run_id))
        if raw is None or raw.data.get("run_id") != run_id or run is None or run.data["status"] in ("done", "failed"):
            return None  # deleted, superseded by a newer submission, or a redelivery of finished work
        started = time.monotonic()
        self._store.run_transaction(lambda tx: runs.update(tx, tenant_id, env, run_id, status="running",
                                                           started_at=utc_now()))
        self._progress(tenant_id, env, doc_id, run_id, "running", 0, 0)
        try:
            return self._ingest(tenant_id, env, doc_id, run_id, raw.data, started)
        except errors.Unavailable:
            raise  # transient (model, store, a model change under way): the bus delivers it again
        except errors.StudioError as exc:  # the document itself cannot be ingested: the run says why
            self._fail(tenant_id, env, doc_id, run_id, exc.detail or exc.code.title)
            return None

    def _ingest(self, tenant_id: str, env: str, doc_id: str, run_id: str, raw: dict[str, Any],
                started: float) -> dict[str, Any]:
        chunking = self._settings.section(tenant_id, env, "chunking")
        text = raw["text"]
        atoms = cut(text, int(chunking["max_tokens"]), int(chunking["overlap_tokens"]))
        if len(atoms) > MAX_ATOMS:
            raise errors.StudioError(NEXUS_DOCUMENT_TOO_LARGE, f"{len(atoms)} atoms: a document makes at most "
                                                               f"{MAX_ATOMS} (raise max_tokens or split it)")
        state = index_state.read(self._store, tenant_id, env, self._embedder.default_model)
        texts = [card_text(_atom_title(raw["title"], a), text[a.start:a.end]) for a in atoms]
        fields: list[dict[str, Any]] = []
        for start in range(0, len(texts), BATCH):
            fields.extend(vectors_for(self._embedder, state, texts[start:start + BATCH]))
            self._progress(tenant_id, env, doc_id, run_id, "running", len(fields), len(texts))
        counts = {"atoms": len(atoms), "cards": len(atoms), "embedded": len(fields) * len(state.slots()),
                  "seconds": round(time.monotonic() - started, 3)}

        def write(tx: Transaction) -> None:
            old = tx.query(Query(paths.cards(tenant_id, env), [Filter("source_doc_id", "==", doc_id)],
                                 limit=MAX_ATOMS + 1)).docs
            current = tx.get(paths.raw_doc(tenant_id, env, doc_id))
            if current is None or current.data.get("run_id") != run_id:
                return  # deleted or replaced while embedding: the newer run does the work
            if index_state.read_in(tx, tenant_id, env, self._embedder.default_model).slots() != state.slots():
                raise errors.Unavailable("the index's model changed while embedding; ingest again")
            keep = {atom_card_id(doc_id, a.n) for a in atoms}
            for doc in old:
                if doc.doc_id not in keep:
                    tx.delete(doc.path)
            tx.put(paths.atoms(tenant_id, env, doc_id), {"doc_id": doc_id, "run_id": run_id, "status": "ready",
                                                         "cards": len(atoms), "error": None, "ingested_at": utc_now(),
                                                         "atoms": [a.as_dict() for a in atoms]})
            source_atoms = {a.n: a for a in atoms}
            for a, f in zip(atoms, fields, strict=True):
                source = {"doc_id": doc_id, "doc_title": raw["title"], "atoms": [source_atoms[a.n].as_dict()]}
                tx.put(paths.card(tenant_id, env, atom_card_id(doc_id, a.n)),
                       {**card_data(_atom_title(raw["title"], a), text[a.start:a.end], raw.get("tags", []),
                                    INGEST_AGENT, origin="ingest", source=source, source_doc_id=doc_id), **f})
            runs.update(tx, tenant_id, env, run_id, status="done", counts=counts, finished_at=utc_now())
            index_state.bump(tx, tenant_id, env, self._embedder.default_model, cards=len(atoms) - len(old))
            emit(tx, DomainEvent("nexus.doc_ingested", tenant_id, env, current.path,
                                 {"doc_id": doc_id, "run_id": run_id, **counts}))
            emit_meta(tx, tenant_id, env, "nexus.ingest_progress",
                      {"doc_id": doc_id, "run_id": run_id, "status": "done", "done": len(texts),
                       "total": len(texts), "percent": 100}, subject=current.path)

        self._store.run_transaction(write)
        return counts

    def _fail(self, tenant_id: str, env: str, doc_id: str, run_id: str, reason: str) -> None:
        def write(tx: Transaction) -> None:
            current = tx.get(paths.raw_doc(tenant_id, env, doc_id))
            state = tx.get(paths.atoms(tenant_id, env, doc_id))
            if current is not None and current.data.get("run_id") == run_id:  # the old atoms and cards stay
                kept = state.data if state is not None else {"doc_id": doc_id, "atoms": [], "cards": 0}
                tx.put(paths.atoms(tenant_id, env, doc_id), {**kept, "run_id": run_id, "status": "failed",
                                                             "error": reason})
            runs.update(tx, tenant_id, env, run_id, status="failed", error=reason, finished_at=utc_now())
            emit(tx, DomainEvent("nexus.doc_failed", tenant_id, env, paths.raw_doc(tenant_id, env, doc_id),
                                 {"doc_id": doc_id, "run_id": run_id, "error": reason}))

        self._store.run_transaction(write)
        self._progress(tenant_id, env, doc_id, run_id, "failed", 0, 0)

    def _progress(self, tenant_id: str, env: str, doc_id: str, run_id: str, status: str, done: int, total: int) -> None:
        try:
            publish_meta(self._bus, tenant_id, env, "nexus.ingest_progress",
                         {"doc_id": doc_id, "run_id": run_id, "status": status, "done": done, "total": total,
                          "percent": int(100 * done / total) if total else 0})
        except errors.StudioError:  # progress is a courtesy: the run record is the truth
            _log.warning("nexus progress not published", extra={"run_id": run_id})


def _atom_title(doc_title: str, atom: Atom) -> str:
    return f"{doc_title} — {atom.heading}" if atom.heading else doc_title

"""Changing a tenant's embedding model (the worker's second job): fill the pending vector slot of every
card with the new model, in pages, while search keeps reading the active slot; then flip the active
slot in one transaction. Cards written meanwhile are embedded for both slots (embedding.py); a page
that lost a race with an edit is simply read again, so the flip happens only once no card lacks the
new model's vector.

A run counts its starts on its record. A start that fails raises (the bus retries it, backing off) and
leaves its error on the run; a worker killed mid-run leaves nothing but its start, and the redelivery
resumes where it stopped (the cards it filled already carry the new model). A run started more than
``ATTEMPTS`` times is given up: failed with its last error, the pending model cleared so the tenant can
choose again, the old index serving throughout (decision 0102). The bus delivers more often than that,
so the give-up happens even when every start was killed."""
from __future__ import annotations

from typing import Any

from studio.kernel import errors, logs
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta, publish_meta
from studio.nexus import index_state, paths, runs
from studio.nexus.embedding import card_text
from studio.nexus.index_state import IndexState, vector_field
from studio.ports.bus import Bus
from studio.ports.embeddings import Embedder
from studio.ports.store import Document, DocumentStore, Query, Transaction, iter_all

_log = logs.get("studio.nexus")
PAGE = 64
MAX_PASSES = 20
ATTEMPTS = 3  # starts of one run before it is given up (the local bus delivers 5 times, Pub/Sub's policy more)


class ReembedWorker:
    def __init__(self, store: DocumentStore, bus: Bus, embedder: Embedder) -> None:
        self._store = store
        self._bus = bus
        self._embedder = embedder

    def run(self, tenant_id: str, env: str, run_id: str) -> dict[str, Any] | None:
        state = index_state.read(self._store, tenant_id, env, self._embedder.default_model)
        if state.reembed_run != run_id or not state.pending_model:
            return None  # finished already (a redelivery) or replaced
        model, slot = state.pending_model, state.pending_slot
        attempt = self._store.run_transaction(lambda tx: _start(tx, tenant_id, env, run_id))
        if attempt > ATTEMPTS:
            self._store.run_transaction(lambda tx: self._give_up(tx, tenant_id, env, run_id, model))
            return None
        try:
            return self._fill_and_flip(tenant_id, env, run_id, model, slot)
        except Exception as exc:
            error = f"attempt {attempt}: {type(exc).__name__}: {str(exc)[:300]}"
            self._store.run_transaction(lambda tx: runs.update(tx, tenant_id, env, run_id, error=error))
            raise  # the bus retries it (and counts the failure)

    def _give_up(self, tx: Transaction, tenant_id: str, env: str, run_id: str, model: str) -> None:
        current = index_state.read_in(tx, tenant_id, env, self._embedder.default_model)
        if current.reembed_run != run_id:
            return
        run = tx.get(paths.run(tenant_id, env, run_id))
        last = (run.data.get("error") if run is not None else None) or "its worker stopped"
        # reads before writes (Firestore): runs.update reads the run, then writes it
        runs.update(tx, tenant_id, env, run_id, status="failed", finished_at=utc_now(),
                    error=f"the index did not move to {model} in {ATTEMPTS} attempts ({last})"[:500])
        index_state.write(tx, tenant_id, env, IndexState(current.generation, current.active_model,
                                                         current.active_slot, None, None, current.cards))
        _log.warning("nexus re-embed given up", extra={"fields": {"tenant_id": tenant_id, "run_id": run_id}})
        emit_meta(tx, tenant_id, env, "nexus.reembed_progress", {"run_id": run_id, "status": "failed", "model": model},
                  subject=paths.run(tenant_id, env, run_id))

    def _fill_and_flip(self, tenant_id: str, env: str, run_id: str, model: str, slot: int) -> dict[str, Any]:
        embedded = 0
        for _ in range(MAX_PASSES):
            missing = [d for d in iter_all(self._store, Query(paths.cards(tenant_id, env), limit=500))
                       if (d.data.get("emb") or {}).get(str(slot)) != model]
            if not missing:
                break
            for start in range(0, len(missing), PAGE):
                embedded += self._fill(missing[start:start + PAGE], model, slot)
                self._progress(tenant_id, env, run_id, "running", start + PAGE, len(missing))
        else:
            raise errors.Unavailable("cards kept changing while the index was rebuilt; try again")
        counts = {"embedded": embedded}

        def flip(tx: Transaction) -> None:
            current = index_state.read_in(tx, tenant_id, env, self._embedder.default_model)
            if current.reembed_run != run_id:
                return
            index_state.write(tx, tenant_id, env, IndexState(current.generation + 1, model, slot, None, None,
                                                             current.cards))
            runs.update(tx, tenant_id, env, run_id, status="done", counts=counts, finished_at=utc_now())
            emit(tx, DomainEvent("nexus.reembed_finished", tenant_id, env, paths.run(tenant_id, env, run_id),
                                 {"run_id": run_id, "model": model, **counts}))
            emit_meta(tx, tenant_id, env, "nexus.reembed_progress",
                      {"run_id": run_id, "status": "done", "percent": 100, "model": model},
                      subject=paths.run(tenant_id, env, run_id))

        self._store.run_transaction(flip)
        return counts

    def _fill(self, cards: list[Document], model: str, slot: int) -> int:
        vectors = self._embedder.embed([card_text(d.data["title"], d.data["body"]) for d in cards], model)
        written = 0
        for doc, vector in zip(cards, vectors, strict=True):
            data = {**doc.data, vector_field(slot): [round(float(x), 6) for x in vector],
                    "emb": {**(doc.data.get("emb") or {}), str(slot): model}}
            try:
                self._store.put(doc.path, data, expected_rev=doc.rev)
                written += 1
            except (errors.RevisionConflict, errors.NotFound):
                continue  # edited or deleted meanwhile: the next pass reads it again (or it is gone)
        return written

    def _progress(self, tenant_id: str, env: str, run_id: str, status: str, done: int, total: int) -> None:
        try:
            publish_meta(self._bus, tenant_id, env, "nexus.reembed_progress",
                         {"run_id": run_id, "status": status, "percent": min(100, int(100 * done / max(total, 1)))})
        except errors.StudioError:
            _log.warning("nexus progress not published", extra={"run_id": run_id})


def _start(tx: Transaction, tenant_id: str, env: str, run_id: str) -> int:
    """Count this start on the run and mark it running: which start this is (1 for the first)."""
    run = tx.get(paths.run(tenant_id, env, run_id))
    attempt = (int(run.data.get("attempts") or 0) if run is not None else 0) + 1
    runs.update(tx, tenant_id, env, run_id, status="running", started_at=utc_now(), attempts=attempt)
    return attempt

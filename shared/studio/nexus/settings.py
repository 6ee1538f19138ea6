"""Nexus settings, one revisioned document per section: chunking, hybrid weights, and the model.

A change of model does not touch search at once: it records the wish, marks the index's other slot
pending and queues a re-embed run (reembed.py); the old index serves until the new one is complete.
"""
from __future__ import annotations

from typing import Any

from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.nexus import index_state, paths, runs
from studio.nexus.errors import NEXUS_MODEL_UNKNOWN, NEXUS_REEMBED_RUNNING
from studio.ports.embeddings import Embedder
from studio.ports.store import Document, DocumentStore, Transaction

INGEST_TOPIC = "nexus.ingest"  # the ingest worker's trigger: documents to cut and embed, indexes to rebuild
DEFAULTS: dict[str, dict[str, Any]] = {
    "chunking": {"max_tokens": 200, "overlap_tokens": 30},
    "hybrid": {"keyword_weight": 1.0, "vector_weight": 1.0, "rrf_k": 60},
}
SECTIONS = ("chunking", "hybrid", "model")


class SettingsService:
    def __init__(self, store: DocumentStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder

    def section(self, tenant_id: str, env: str, name: str) -> dict[str, Any]:
        """The section's values (defaults where never written), without its rev."""
        doc = self._store.get(paths.settings(tenant_id, env, name))
        values = dict(DEFAULTS.get(name, {}))
        if doc is not None:
            values.update({k: v for k, v in doc.data.items() if k not in ("updated_at", "updated_by")})
        return values

    def view(self, ctx: RequestContext) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in SECTIONS:
            doc = self._store.get(paths.settings(ctx.tenant_id, ctx.env, name))
            out[name] = {**self.section(ctx.tenant_id, ctx.env, name), "rev": 0 if doc is None else doc.rev}
        state = index_state.read(self._store, ctx.tenant_id, ctx.env, self._embedder.default_model)
        out["model"].update({"model": out["model"].get("model", state.active_model), "active_model": state.active_model,
                             "pending_model": state.pending_model, "reembed_run": state.reembed_run,
                             "available": list(self._embedder.models())})
        return out

    def current_rev(self, ctx: RequestContext, name: str) -> int:
        doc = self._store.get(paths.settings(ctx.tenant_id, ctx.env, name))
        return 0 if doc is None else doc.rev

    def put(self, ctx: RequestContext, name: str, values: dict[str, Any], base_rev: int) -> dict[str, Any]:
        """Write a section (base_rev 0 creates it). For ``model``, start the re-embed when it changes."""
        switch_to: str | None = None  # the model section's own step: start the re-embed in the same commit
        if name == "model":
            switch_to = values["model"]
            if switch_to not in self._embedder.models():
                raise errors.StudioError(NEXUS_MODEL_UNKNOWN, f"choose one of {', '.join(self._embedder.models())}")

        def write(tx: Transaction) -> Document:
            if switch_to is not None:
                self.switch_model(tx, ctx.tenant_id, ctx.env, switch_to)
            return repository.upsert(
                tx, paths.settings(ctx.tenant_id, ctx.env, name), base_rev,
                change=lambda doc: {**values, "updated_at": utc_now(), "updated_by": ctx.user_id},
                event=lambda b, a: DomainEvent("nexus.settings_changed", ctx.tenant_id, ctx.env, a.path,
                                               {"section": name, "rev": a.rev})).after

        self._store.run_transaction(write)
        section: dict[str, Any] = self.view(ctx)[name]
        return section

    def switch_model(self, tx: Transaction, tenant_id: str, env: str, model: str,
                     run_id: str | None = None) -> str | None:
        """Start moving the index to ``model`` in ``tx``: the run's id, or None when the index already has it
        (or is already moving to it). Raises NEXUS_REEMBED_RUNNING while it moves to another model."""
        state = index_state.read_in(tx, tenant_id, env, self._embedder.default_model)
        if state.pending_model:
            if state.pending_model == model:
                return None
            raise errors.StudioError(NEXUS_REEMBED_RUNNING, f"the index is still moving to {state.pending_model}")
        if state.active_model == model:
            return None
        run_id = run_id or runs.new_run_id()
        runs.start(tx, tenant_id, env, run_id, "reembed", model=model)
        index_state.write(tx, tenant_id, env, index_state.IndexState(
            state.generation, state.active_model, state.active_slot, model, run_id, state.cards))
        emit(tx, DomainEvent("nexus.reembed_requested", tenant_id, env, paths.run(tenant_id, env, run_id),
                             {"run_id": run_id, "model": model}), topic=INGEST_TOPIC)
        return run_id

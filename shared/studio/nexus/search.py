"""``GET /nexus/search``: keyword (BM25), vector (the tenant's model, the vector index port) or hybrid
(both, fused by reciprocal rank with the tenant's weights). Results carry every score that found
them, the matched snippet, and the card's provenance (its source document and atoms)."""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from studio.kernel.context import RequestContext
from studio.nexus import index_state, paths
from studio.nexus.embedding import tenant_model
from studio.nexus.fusion import rrf
from studio.nexus.keyword import KeywordIndex
from studio.nexus.settings import SettingsService
from studio.nexus.snippets import snippet
from studio.ports.embeddings import Embedder
from studio.ports.store import DocumentStore
from studio.ports.vectors import VectorIndex

Mode = Literal["hybrid", "vector", "keyword"]
DEPTH = 50  # how deep each list goes before fusion: a card ranked low by one list can still win


@dataclass(frozen=True)
class Ranked:
    card_id: str
    score: float
    keyword: tuple[int, float] | None  # (rank, BM25 score)
    vector: tuple[int, float] | None  # (rank, cosine)


class SearchService:
    def __init__(self, store: DocumentStore, embedder: Embedder, vectors: VectorIndex, keyword: KeywordIndex,
                 settings: SettingsService) -> None:
        self._store = store
        self._embedder = embedder
        self._vectors = vectors
        self._keyword = keyword
        self._settings = settings

    def rank(self, tenant_id: str, env: str, query: str, k: int, mode: Mode, tags: Sequence[str] = ()) -> list[Ranked]:
        state = index_state.read(self._store, tenant_id, env, self._embedder.default_model)
        depth = max(k, DEPTH) if mode == "hybrid" else k
        kw: list[tuple[str, float]] = []
        vec: list[tuple[str, float]] = []
        if mode in ("keyword", "hybrid"):
            kw = [(h.card_id, h.score) for h in self._keyword.search(tenant_id, env, state.generation, query, depth, tags)]
        if mode in ("vector", "hybrid") and state.cards:
            vec = self._vector(tenant_id, env, state, query, depth, tags)
        kw_rank = {cid: (i + 1, s) for i, (cid, s) in enumerate(kw)}
        vec_rank = {cid: (i + 1, s) for i, (cid, s) in enumerate(vec)}
        if mode == "keyword":
            fused = kw
        elif mode == "vector":
            fused = vec
        else:
            weights = self._settings.section(tenant_id, env, "hybrid")
            fused = rrf([([c for c, _ in kw], float(weights["keyword_weight"])),
                         ([c for c, _ in vec], float(weights["vector_weight"]))], int(weights["rrf_k"]))
        return [Ranked(cid, score, kw_rank.get(cid), vec_rank.get(cid)) for cid, score in fused[:k]]

    def _vector(self, tenant_id: str, env: str, state: index_state.IndexState, query: str, depth: int,
                tags: Sequence[str]) -> list[tuple[str, float]]:
        qv = self._embedder.embed([query], tenant_model(state), purpose="query")[0]
        # The index filters on one tag itself; further tags are checked here, so it is asked for more.
        hits = self._vectors.nearest(paths.cards(tenant_id, env), state.active_field, qv.tolist(),
                                     depth * (4 if len(tags) > 1 else 1), generation=state.generation,
                                     tag=tags[0] if tags else None)
        if len(tags) > 1:
            docs = self._store.get_many([paths.card(tenant_id, env, h.doc_id) for h in hits])
            wanted = set(tags)
            hits = [h for h, d in zip(hits, docs, strict=True) if d is not None and wanted <= set(d.data.get("tags", []))]
        return [(h.doc_id, h.score) for h in hits[:depth]]

    def search(self, ctx: RequestContext, query: str, k: int, mode: Mode, tags: Sequence[str] = (),
               snippet_chars: int = 240) -> dict[str, Any]:
        started = time.perf_counter()
        ranked = self.rank(ctx.tenant_id, ctx.env, query, k, mode, tags)
        docs = self._store.get_many([paths.card(ctx.tenant_id, ctx.env, r.card_id) for r in ranked])
        results = []
        for r, doc in zip(ranked, docs, strict=True):
            if doc is None:
                continue  # deleted between ranking and reading
            d = doc.data
            results.append({
                "card_id": doc.doc_id, "title": d["title"], "tags": d.get("tags", []), "score": round(r.score, 6),
                "scores": {"keyword": None if r.keyword is None else round(r.keyword[1], 6),
                           "keyword_rank": None if r.keyword is None else r.keyword[0],
                           "vector": None if r.vector is None else round(r.vector[1], 6),
                           "vector_rank": None if r.vector is None else r.vector[0]},
                "snippet": snippet(d["body"], query, snippet_chars),
                "provenance": {"origin": d.get("origin", "manual"), "author": d["author"], "source": d.get("source")},
            })
        state = index_state.read(self._store, ctx.tenant_id, ctx.env, self._embedder.default_model)
        return {"query": query, "mode": mode, "k": k, "model": state.active_model, "results": results,
                "took_ms": round((time.perf_counter() - started) * 1000, 2)}

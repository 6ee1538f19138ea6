"""Nexus retrieval quality: recall@10 and nDCG@10 of keyword, vector and hybrid search on the labelled set
committed in tests/fixtures/nexus/stdlib_qrels.json (250 queries over 2,004 passages of the standard
library's docstrings; its builder says how it was made and why not a public IR set).

The passages go in as cards through the real services (SQLite store, the int8 MiniLM, the numpy index,
BM25), and every query is ranked by ``SearchService.rank`` as ``GET /nexus/search`` ranks it, so this
measures what the API serves. tests/integration/test_nexus_quality.py holds hybrid above both.
"""
from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import REPO
from bench.common import Result, heading, table

QRELS = REPO / "tests" / "fixtures" / "nexus" / "stdlib_qrels.json"
K = 10
MODES = ("keyword", "vector", "hybrid")


@dataclass(frozen=True)
class Quality:
    mode: str
    recall: float
    ndcg: float


def recall_at(ranked: list[str], relevant: set[str], k: int = K) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at(ranked: list[str], relevant: set[str], k: int = K) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def evaluate(data_dir: Path, *, model: str | None = None) -> tuple[list[Quality], dict[str, Any]]:
    """Index the set's passages as cards in a store under ``data_dir`` and rank every query in each mode."""
    from studio.adapters.local_embeddings import LocalEmbedder
    from studio.adapters.numpy_vectors import NumpyVectorIndex
    from studio.adapters.sqlite_store import SqliteStore
    from studio.kernel.context import Principal, RequestContext
    from studio.kernel.roles import Role
    from studio.nexus.cards import CardService
    from studio.nexus.keyword import KeywordIndex
    from studio.nexus.search import SearchService
    from studio.nexus.settings import SettingsService

    data = json.loads(QRELS.read_text())
    store = SqliteStore(data_dir / "store.db")
    embedder = LocalEmbedder()
    if model:
        embedder.default_model = model
    cards = CardService(store, embedder)
    search = SearchService(store, embedder, NumpyVectorIndex(store), KeywordIndex(store), SettingsService(store, embedder))
    ctx = RequestContext("t_quality", "dev", Principal("u_bench"), Role.OWNER)
    started = time.perf_counter()
    card_of: dict[str, str] = {}
    passages = data["passages"]
    for start in range(0, len(passages), 200):
        batch = passages[start:start + 200]
        made = cards.create_many(ctx, [("", p["text"], []) for p in batch], {"kind": "agent", "id": "bench"})
        card_of.update({c["id"]: p["id"] for c, p in zip(made, batch, strict=True)})
    index_s = time.perf_counter() - started
    out = []
    timings: dict[str, float] = {}
    for mode in MODES:
        recalls, ndcgs = [], []
        t0 = time.perf_counter()
        for q in data["queries"]:
            ranked = [card_of[r.card_id] for r in search.rank(ctx.tenant_id, ctx.env, q["text"], K, mode)]
            relevant = set(q["relevant"])
            recalls.append(recall_at(ranked, relevant))
            ndcgs.append(ndcg_at(ranked, relevant))
        timings[mode] = (time.perf_counter() - t0) / len(data["queries"])
        out.append(Quality(mode, sum(recalls) / len(recalls), sum(ndcgs) / len(ndcgs)))
    store.close()
    return out, {"passages": len(passages), "queries": len(data["queries"]), "index_s": round(index_s, 1),
                 "per_query_ms": {m: round(t * 1000, 2) for m, t in timings.items()}, "model": embedder.default_model}


def run(verbose: bool = False) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        found, info = evaluate(Path(tmp))
    heading(f"Nexus retrieval quality: {info['queries']} queries over {info['passages']} passages "
            f"({info['model']}; indexed in {info['index_s']} s)")
    print(table(["mode", "recall@10", "nDCG@10", "ms/query"],
                [[q.mode, f"{q.recall:.3f}", f"{q.ndcg:.3f}", f"{info['per_query_ms'][q.mode]:.1f}"] for q in found]))
    keyword = next(q for q in found if q.mode == "keyword")
    return [Result("nexus_quality", f"{q.mode} {metric}@10", getattr(q, attr), "", keyword and getattr(keyword, attr),
                   "keyword", None) for q in found for metric, attr in (("recall", "recall"), ("nDCG", "ndcg"))]


if __name__ == "__main__":
    run()

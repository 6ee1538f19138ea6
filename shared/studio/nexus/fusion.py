"""Reciprocal rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009): each list gives a document
``weight / (k + rank)``; a document found by both lists adds both. Scores of different kinds (BM25,
cosine) are never compared, only ranks, so no calibration is needed."""
from __future__ import annotations

from collections.abc import Sequence


def rrf(ranked: Sequence[tuple[Sequence[str], float]], k: int = 60) -> list[tuple[str, float]]:
    """``ranked``: (ids best first, weight) per list. Returns (id, fused score), best first; ties keep
    the order in which ids were first seen."""
    scores: dict[str, float] = {}
    for ids, weight in ranked:
        for rank, doc_id in enumerate(ids, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])

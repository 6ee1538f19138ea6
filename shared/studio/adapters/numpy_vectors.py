"""Exact nearest-neighbour search with numpy (the local vector index).

Per collection and field: the documents' vectors as one contiguous float32 matrix (rows unit length),
loaded from the store on first use and again whenever the caller's ``generation`` moves; a search is
one matrix-vector product and an ``argpartition`` (top-k without a full sort). A few collections are
kept (least recently used out first), so a busy instance holds its hot tenants only.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.ports.store import DocumentStore, Query, iter_all
from studio.ports.vectors import VectorHit

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

PAGE = 500


@dataclass
class Matrix:
    generation: int
    ids: list[str]
    vectors: NDArray[np.float32]  # (n, dim), rows unit length
    tags: list[frozenset[str]]

    def nearest(self, query: Sequence[float], k: int, tag: str | None = None) -> list[VectorHit]:
        import numpy as np

        if not self.ids or k <= 0:
            return []
        q = np.asarray(query, dtype=np.float32)
        if q.shape[0] != self.vectors.shape[1]:
            return []
        scores = self.vectors @ q
        if tag is not None:
            scores = np.where(np.fromiter((tag in t for t in self.tags), bool, len(self.tags)), scores, -np.inf)
        k = min(k, len(self.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [VectorHit(self.ids[i], float(scores[i])) for i in top if np.isfinite(scores[i])]


def build_matrix(generation: int, docs: Sequence[tuple[str, Sequence[float], Sequence[str]]], dim: int) -> Matrix:
    import numpy as np

    vectors = np.zeros((len(docs), dim), dtype=np.float32)
    for row, (_, vector, _) in enumerate(docs):
        vectors[row] = vector
    return Matrix(generation, [d[0] for d in docs], vectors, [frozenset(d[2]) for d in docs])


class NumpyVectorIndex:
    name = "numpy"

    def __init__(self, store: DocumentStore, *, keep: int = 32) -> None:
        self._store = store
        self._keep = keep
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], Matrix] = OrderedDict()

    def nearest(self, collection: str, field: str, query: Sequence[float], k: int, *, generation: int,
                tag: str | None = None) -> list[VectorHit]:
        return self.matrix(collection, field, len(query), generation).nearest(query, k, tag)

    def matrix(self, collection: str, field: str, dim: int, generation: int) -> Matrix:
        key = (collection, field)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.generation == generation:
                self._cache.move_to_end(key)
                return cached
        docs: list[tuple[str, Any, Any]] = [
            (d.doc_id, d.data[field], d.data.get("tags") or ())
            for d in iter_all(self._store, Query(collection, limit=PAGE))
            if isinstance(d.data.get(field), list) and len(d.data[field]) == dim]
        built = build_matrix(generation, docs, dim)
        with self._lock:
            self._cache[key] = built
            self._cache.move_to_end(key)
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return built

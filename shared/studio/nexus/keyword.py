"""Keyword search: BM25 (``bm25s``) over a tenant's cards, built in process from the store.

Firestore has no full-text index, so the same code serves both adapters: the cards are read once per
index generation (index_state.py) and a BM25 index is built over title + body, English stop words
removed and words stemmed (Snowball, PyStemmer). An instance keeps the indexes of its recent tenants
only (docs/decisions/0052-nexus-keyword-search.md says why not SQLite FTS5 or a search service).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.nexus import paths
from studio.ports.store import DocumentStore, Query, iter_all

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

PAGE = 500


@dataclass(frozen=True)
class KeywordHit:
    card_id: str
    score: float


@dataclass
class _Index:
    generation: int
    ids: list[str]
    tags: list[frozenset[str]]
    retriever: Any  # bm25s.BM25, or None for an empty corpus

    def scores(self, terms: list[str]) -> NDArray[np.float32]:
        import numpy as np

        if self.retriever is None or not terms:
            return np.zeros(len(self.ids), dtype=np.float32)
        known = [t for t in terms if t in self.retriever.vocab_dict]
        if not known:
            return np.zeros(len(self.ids), dtype=np.float32)
        result: NDArray[np.float32] = np.asarray(self.retriever.get_scores(known), dtype=np.float32)
        return result


_STEMMER: Any = None


def _stemmer() -> Any:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def stem_words(words: Sequence[str]) -> list[str]:
    return list(_stemmer().stemWords(list(words)))


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    import bm25s

    tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=False)
    return [list(t) for t in tokens]


class KeywordIndex:
    def __init__(self, store: DocumentStore, *, keep: int = 32) -> None:
        self._store = store
        self._keep = keep
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Index] = OrderedDict()

    def search(self, tenant_id: str, env: str, generation: int, query: str, k: int,
               tags: Sequence[str] = ()) -> list[KeywordHit]:
        import numpy as np

        index = self._index(tenant_id, env, generation)
        if not index.ids or k <= 0:
            return []
        scores = index.scores(tokenize([query])[0])
        if tags:
            wanted = set(tags)
            scores = np.where(np.fromiter((wanted <= t for t in index.tags), bool, len(index.tags)), scores, 0)
        k = min(k, len(index.ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(index.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def _index(self, tenant_id: str, env: str, generation: int) -> _Index:
        key = paths.cards(tenant_id, env)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached.generation == generation:
                self._cache.move_to_end(key)
                return cached
        docs = list(iter_all(self._store, Query(paths.cards(tenant_id, env), limit=PAGE)))
        built = build(generation, [(d.doc_id, f"{d.data['title']}\n{d.data['body']}", d.data.get("tags") or [])
                                   for d in docs])
        with self._lock:
            self._cache[key] = built
            self._cache.move_to_end(key)
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return built


def build(generation: int, docs: Sequence[tuple[str, str, Sequence[str]]]) -> _Index:
    import bm25s

    retriever = None
    if docs:
        retriever = bm25s.BM25()
        retriever.index(tokenize([text for _, text, _ in docs]), show_progress=False)
    return _Index(generation, [d[0] for d in docs], [frozenset(d[2]) for d in docs], retriever)

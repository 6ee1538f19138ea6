"""The vector explorer's scene: a tenant's cards projected to 2D or 3D by PCA (numpy's SVD), grouped
by k-means in the full embedding space, each cluster labelled by the words most particular to it.

PCA, not UMAP: it is one SVD with no extra dependency (UMAP pulls numba, seconds of JIT at a cold
start) and its axes mean the same from one call to the next (docs/decisions/0054-nexus-explorer.md).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from studio.nexus import index_state, paths
from studio.ports.embeddings import Embedder
from studio.ports.store import DocumentStore, Query

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

MAX_POINTS = 2_000
_WORD = re.compile(r"[a-zA-Z][a-zA-Z-]{2,}")
_STOP = frozenset("the and for with that this from are was were have has not but you your our their its into "
                  "about which when what they them will can all any more one two also than then there these "
                  "those such use used using".split())


def pca(m: NDArray[np.float32], dims: int) -> tuple[NDArray[np.float32], list[float]]:
    import numpy as np

    centred = m - m.mean(axis=0, keepdims=True)
    if len(m) < 2:
        return np.zeros((len(m), dims), dtype=np.float32), [0.0] * dims
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:dims].T
    if coords.shape[1] < dims:  # fewer points than dimensions asked
        coords = np.pad(coords, ((0, 0), (0, dims - coords.shape[1])))
    var = (s ** 2) / max(float((s ** 2).sum()), 1e-12)
    explained = [round(float(v), 4) for v in var[:dims]] + [0.0] * max(0, dims - len(var))
    return coords.astype(np.float32), explained


def kmeans(m: NDArray[np.float32], k: int, iterations: int = 20) -> NDArray[np.int64]:
    """Cosine k-means with k-means++ seeding from a fixed seed: the same cards give the same clusters."""
    import numpy as np

    rng = np.random.default_rng(12)
    centres = [m[rng.integers(len(m))]]
    for _ in range(1, k):
        d = np.min(1 - np.stack([m @ c for c in centres], axis=1), axis=1).clip(0)
        centres.append(m[rng.choice(len(m), p=d / d.sum())] if d.sum() > 0 else m[rng.integers(len(m))])
    c = np.stack(centres)
    labels = np.zeros(len(m), dtype=np.int64)
    for _ in range(iterations):
        labels = np.argmax(m @ c.T, axis=1)
        for j in range(k):
            members = m[labels == j]
            if len(members):
                mean = members.mean(axis=0)
                c[j] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return labels


def cluster_labels(texts: list[str], labels: list[int], k: int) -> list[str]:
    overall: Counter[str] = Counter()
    per: list[Counter[str]] = [Counter() for _ in range(k)]
    for text, label in zip(texts, labels, strict=True):
        words = {w.lower() for w in _WORD.findall(text)} - _STOP
        overall.update(words)
        per[label].update(words)
    out = []
    for j in range(k):
        size = sum(1 for label in labels if label == j) or 1
        ranked = sorted(per[j], key=lambda w: (-(per[j][w] / size) * (per[j][w] / overall[w]), w))
        out.append(" · ".join(ranked[:3]) or f"cluster {j + 1}")
    return out


class ExplorerService:
    def __init__(self, store: DocumentStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder

    def scene(self, tenant_id: str, env: str, dims: int, limit: int) -> dict[str, Any]:
        import numpy as np

        state = index_state.read(self._store, tenant_id, env, self._embedder.default_model)
        field = state.active_field
        docs = [d for d in self._store.query(Query(paths.cards(tenant_id, env), [], [("created_at", "desc")],
                                                   limit)).docs if isinstance(d.data.get(field), list)]
        if not docs:
            return {"model": state.active_model, "dims": dims, "explained_variance": [0.0] * dims, "points": [],
                    "clusters": []}
        m = np.array([d.data[field] for d in docs], dtype=np.float32)
        coords, explained = pca(m, dims)
        k = int(max(1, min(8, round((len(docs) / 2) ** 0.5))))
        labels = kmeans(m, k).tolist()
        names = cluster_labels([f"{d.data['title']} {d.data['body']}" for d in docs], labels, k)
        axes = "xyz"[:dims]
        points = [{"card_id": d.doc_id, "title": d.data["title"], "tags": d.data.get("tags", []),
                   "cluster": labels[i], **{a: round(float(coords[i, j]), 5) for j, a in enumerate(axes)}}
                  for i, d in enumerate(docs)]
        clusters = []
        for j in range(k):
            members = [i for i, label in enumerate(labels) if label == j]
            if members:
                centre = coords[members].mean(axis=0)
                clusters.append({"id": j, "label": names[j], "size": len(members),
                                 "centroid": {a: round(float(centre[n]), 5) for n, a in enumerate(axes)}})
        return {"model": state.active_model, "dims": dims, "explained_variance": explained, "points": points,
                "clusters": clusters}

"""Vector index port: the nearest documents of a collection to a query vector.

Embeddings live on the documents themselves, in fields named ``vec_*`` (written with the store port,
in the same transaction as the rest of the document, so an index can never disagree with the cards).
Locally the index is exact numpy search over a float32 matrix per collection, loaded from the store
and reloaded when the caller's ``generation`` moves; on Google Cloud it is Firestore's
``find_nearest`` over a vector index (the Firestore store writes ``vec_*`` fields as Vector values).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

VECTOR_PREFIX = "vec_"  # a document field holding an embedding (list of floats)


def is_vector_field(name: str) -> bool:
    return name.startswith(VECTOR_PREFIX)


@dataclass(frozen=True)
class VectorHit:
    doc_id: str
    score: float  # cosine similarity, higher is nearer


class VectorIndex(Protocol):
    name: str  # "numpy", "firestore"

    def nearest(self, collection: str, field: str, query: Sequence[float], k: int, *, generation: int,
                tag: str | None = None) -> list[VectorHit]:
        """The ``k`` documents of ``collection`` whose ``field`` is nearest ``query`` (unit vectors),
        nearest first; only documents whose ``tags`` array holds ``tag`` when given. ``generation``
        names the collection's state: an index that caches may reuse what it loaded at the same one."""
        ...

"""Nearest neighbours on Firestore: ``find_nearest`` (COSINE) over the vector index of a ``vec_*`` field
(infra/firestore.indexes.json; Terraform creates it). The Firestore store writes ``vec_*`` fields as
Vector values, so the documents the store port wrote are what this searches."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.adapters.firestore_tx import mapped
from studio.kernel.paths import check_collection_path
from studio.ports.vectors import VectorHit

DISTANCE_FIELD = "_distance"
MAX_K = 1000  # Firestore's limit on find_nearest


class FirestoreVectorIndex:
    name = "firestore"

    def __init__(self, client_provider: Any) -> None:
        self._client_provider = client_provider  # the Firestore store's client, created on first use

    def nearest(self, collection: str, field: str, query: Sequence[float], k: int, *, generation: int,
                tag: str | None = None) -> list[VectorHit]:
        from google.cloud.firestore_v1.base_vector_query import DistanceMeasure
        from google.cloud.firestore_v1.vector import Vector

        if k <= 0:
            return []
        ref: Any = self._client_provider().collection(check_collection_path(collection))
        if tag is not None:
            ref = ref.where(filter=_field_filter("tags", "array_contains", tag))
        vq = ref.find_nearest(vector_field=field, query_vector=Vector(list(query)), limit=min(k, MAX_K),
                              distance_measure=DistanceMeasure.COSINE, distance_result_field=DISTANCE_FIELD)
        with mapped():
            snaps = list(vq.get(timeout=10))
        # COSINE distance is 1 - cosine similarity: report the similarity, as the numpy index does.
        return [VectorHit(s.id, 1.0 - float((s.to_dict() or {}).get(DISTANCE_FIELD, 1.0))) for s in snaps]


def _field_filter(field: str, op: str, value: Any) -> Any:
    from google.cloud.firestore_v1.base_query import FieldFilter

    return FieldFilter(field, op, value)

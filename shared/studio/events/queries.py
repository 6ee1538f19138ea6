"""The store queries the DatasetEvent code makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
The listing filters on any mix of surface and agent, with or without a time range: every
combination is its own index shape, so every one is listed.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_TENANT = "tenants/t_abc/envs/dev"
_RANGE = [Filter("createdAt", ">=", "2026-01-01T00:00:00Z"), Filter("createdAt", "<", "2027")]

QUERIES = (
    StoreQuery("events/store_writer.py:sum_shards", Query(f"{_TENANT}/metrics/dataset_events/shards", limit=16)),
    *(StoreQuery("events/store_writer.py:list_events",
                 Query(f"{_TENANT}/dataset_events", [Filter(f, "==", "x") for f in equal] + time_range,
                       [("createdAt", "desc")], 50))
      for equal in ([], ["surface"], ["agentId"], ["surface", "agentId"])
      for time_range in ([], _RANGE)),
)

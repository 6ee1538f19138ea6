"""The store queries the agent pipeline makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

QUERIES = (
    StoreQuery("agents/pipeline.py:turns",
               Query("tenants/t_abc/envs/dev/threads/th_1/messages", [Filter("seq", "<=", 9), Filter("seq", ">", 1)],
                     [("seq", "asc")], 8)),
)

"""The store queries the tools domain makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Query

QUERIES = (
    StoreQuery("tools/catalog.py:_latest", Query("tenants/t_abc/envs/dev/tools", limit=200)),
    StoreQuery("tools/catalog.py:put_http_tool", Query("tenants/t_abc/envs/dev/tools", limit=200)),
)

"""The store queries BYOK's code makes (sample values; the shape decides the index)."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Query

QUERIES = (
    StoreQuery("byok/keys.py:list_keys", Query("tenants/t_abc/provider_keys", limit=50)),
)

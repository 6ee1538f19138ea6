"""The store queries the analytics domain's code makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
Every one reads a whole small collection (bounded by its MAX_*): no composite index is needed, and
the SEO listing filters on one field only.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_ENV = "tenants/t_abc/envs/dev"

QUERIES = (
    StoreQuery("analytics/sites.py:create", Query(f"{_ENV}/analytics_sites", limit=200)),
    StoreQuery("analytics/sites.py:list_sites", Query(f"{_ENV}/analytics_sites", limit=200)),
    StoreQuery("analytics/sites.py:create_key", Query(f"{_ENV}/analytics_sites/site_1/keys", limit=20)),
    StoreQuery("analytics/sites.py:list_keys", Query(f"{_ENV}/analytics_sites/site_1/keys", limit=20)),
    StoreQuery("analytics/signals.py:create", Query(f"{_ENV}/signals", limit=100)),
    StoreQuery("analytics/signals.py:list_signals", Query(f"{_ENV}/signals", limit=100)),
    StoreQuery("analytics/signals.py:definitions", Query(f"{_ENV}/signals", limit=100)),
    StoreQuery("analytics/personalization.py:create", Query(f"{_ENV}/personalization_rules", limit=500)),
    StoreQuery("analytics/personalization.py:list_rules", Query(f"{_ENV}/personalization_rules", limit=500)),
    StoreQuery("analytics/personalization.py:resolve", Query(f"{_ENV}/personalization_rules", limit=500)),
    StoreQuery("analytics/seo.py:put", Query(f"{_ENV}/seo_pages", limit=1_000)),
    StoreQuery("analytics/seo.py:list_pages",
               Query(f"{_ENV}/seo_pages", [Filter("surface", "==", "web")], limit=1_000)),
)

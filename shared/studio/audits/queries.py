"""The store queries the audits domain makes (sample values; the shape decides the index)."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_AUDITS = "tenants/t_abc/envs/dev/audits"

QUERIES = (
    StoreQuery("audits/jobs.py:list_audits", Query(_AUDITS, [Filter("site_id", "==", "shop")], [("created_at", "desc")], 20)),
    StoreQuery("audits/jobs.py:done_for_site",
               Query(_AUDITS, [Filter("site_id", "==", "shop")], [("created_at", "desc")], 20)),
)

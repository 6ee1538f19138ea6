"""The store queries the fonts domain makes."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Query

QUERIES = (
    StoreQuery("fonts/fonts.py:list_fonts", Query("tenants/t_abc/envs/dev/fonts", [], [("created_at", "desc")], 50)),
)

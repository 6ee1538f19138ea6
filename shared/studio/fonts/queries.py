"""The store queries the fonts domain makes."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

QUERIES = (
    StoreQuery("fonts/css2.py:stylesheet", Query("tenants/t_abc/envs/dev/fonts", [
        Filter("family", "==", "Inter"), Filter("public", "==", True)], limit=50)),
    StoreQuery("fonts/presets.py:list_presets", Query("tenants/t_abc/envs/dev/font_presets", [],
                                                      [("created_at", "desc")], 200)),
    StoreQuery("fonts/fonts.py:list_fonts", Query("tenants/t_abc/envs/dev/fonts", [], [("created_at", "desc")], 50)),
)

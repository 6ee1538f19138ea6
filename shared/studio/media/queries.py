"""The store queries media's code makes (sample values; the shape decides the index)."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Direction, Filter, Query

_ASSETS = "tenants/t_abc/envs/dev/media_assets"
_ARTIFACTS = "tenants/t_abc/envs/dev/media_artifacts"
_T = "2026-01-01T00:00:00.000000Z"
_LIVE = Filter("deleted", "==", False)
_NEWEST: list[tuple[str, Direction]] = [("created_at", "desc")]

QUERIES = (
    StoreQuery("media/assets.py:list_assets", Query(_ASSETS, [_LIVE], _NEWEST, 50)),
    StoreQuery("media/assets.py:list_assets", Query(_ASSETS, [_LIVE, Filter("kind", "==", "image")], _NEWEST, 50)),
    StoreQuery("media/assets.py:list_assets", Query(_ASSETS, [_LIVE, Filter("status", "==", "ready")], _NEWEST, 50)),
    StoreQuery("media/assets.py:list_assets", Query(_ASSETS, [_LIVE, Filter("kind", "==", "image"),
                                                              Filter("status", "==", "ready"),
                                                              Filter("created_at", ">=", _T),
                                                              Filter("created_at", "<", _T)], _NEWEST, 50)),
    StoreQuery("media/assets.py:purge_due", Query(_ASSETS, [Filter("purged", "==", False),
                                                            Filter("purge_after", "<=", _T)],
                                                  [("purge_after", "asc")], 50)),
    StoreQuery("media/assets.py:_purge", Query(_ARTIFACTS, [Filter("asset_id", "==", "as_1")], limit=500)),
    StoreQuery("media/assets.py:_purge/duplicates", Query(_ASSETS, [Filter("deduplicated_from", "==", "as_1")], limit=50)),
    StoreQuery("media/assets.py:artifacts_of", Query(_ARTIFACTS, [Filter("asset_id", "==", "as_1")],
                                                     [("created_at", "asc")], 200)),
)

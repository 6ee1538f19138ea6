"""The ingest path's per-instance site cache answers for the key's own tenant, env and site: a key id is
random but not a secret nor unique across tenants, so it alone must not name another tenant's site."""
from __future__ import annotations

from pathlib import Path

from studio.adapters.sqlite_bus import SqliteBus
from studio.adapters.sqlite_store import SqliteStore
from studio.analytics import paths
from studio.analytics.ingest import IngestService
from studio.analytics.sites import SCOPE, SiteService
from studio.kernel.site_keys import SiteKeyGrant


def test_two_tenants_keys_with_one_key_id_resolve_to_their_own_sites(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    site = {"origins": ["https://a.example"], "allow_no_origin": False, "rate_limit_per_minute": 60}
    store.put(paths.site("t_aaaaaa", "dev", "site_a"), site)
    store.put(paths.site("t_bbbbbb", "prod", "site_b"), dict(site, origins=["https://b.example"]))
    ingest = IngestService(SiteService(store), SqliteBus(tmp_path / "bus.db"))
    first = ingest.site_of(SiteKeyGrant(SCOPE, "t_aaaaaa", "dev", "key_same", {"site_id": "site_a"}))
    second = ingest.site_of(SiteKeyGrant(SCOPE, "t_bbbbbb", "prod", "key_same", {"site_id": "site_b"}))
    assert (first.tenant_id, first.site_id, first.origins) == ("t_aaaaaa", "site_a", ("https://a.example",))
    assert (second.tenant_id, second.env, second.site_id, second.origins) == (
        "t_bbbbbb", "prod", "site_b", ("https://b.example",))

"""Site keys (Access.SITE_KEY, kernel/site_keys.py): the wire formats each client uses, revocation, and
the move of the three older key stores into the kernel's (infra/migrations/site_keys_0095.py).
The refusals of every site-key route are generated in test_route_security.py."""
from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from infra.migrations.site_keys_0095 import migrate
from studio.adapters.sqlite_store import SqliteStore
from studio.kernel import errors
from studio.kernel.site_keys import KeyPlace, SiteKeyRule, resolve
from tests.support.api import User
from tests.support.site_keys import keys_of_every_scope

RULES = {scope: SiteKeyRule(scope, KeyPlace.QUERY) for scope in ("analytics.ingest", "experiments.evaluate", "fonts.css")}


def test_an_ofrep_provider_may_send_its_key_as_bearer_or_as_x_api_key(client: httpx.Client, owner: User,
                                                                       tenant: str) -> None:
    key = keys_of_every_scope(client, owner, tenant)["experiments.evaluate"].live
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        r = client.post("/ofrep/v1/evaluate/flags", json={"context": {"targetingKey": "u1"}}, headers=headers)
        assert r.status_code == 200, r.text
    wrong = client.post("/ofrep/v1/evaluate/flags", json={"context": {}}, headers={"Authorization": "Bearer ofk_x"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == 'Bearer realm="ofrep"'


def test_a_revoked_font_key_stops_its_stylesheet_and_the_key_is_never_stored_whole(
        client: httpx.Client, owner: User, tenant: str, platform: object) -> None:
    h = owner.in_tenant(tenant)
    made = client.post("/fonts/site-keys", headers=h)
    assert made.status_code == 201 and made.json()["css2"] == f"/fonts/{made.json()['site_key']}/css2"
    key, key_id = made.json()["site_key"], made.json()["id"]
    sheet = client.get(made.json()["css2"], params={"family": "Nothing"})
    assert sheet.status_code == 404  # admitted: the tenant simply has no such public font
    store = platform.platform.deps.store  # type: ignore[attr-defined]
    record = store.get("site_keys/" + hashlib.sha256(key.encode()).hexdigest())
    assert record is not None and record.data["scope"] == "fonts.css" and key not in str(record.data)
    assert client.post(f"/fonts/site-keys/{key_id}/revoke", headers=h).json()["revoked"] is True
    gone = client.get(made.json()["css2"], params={"family": "Nothing"})
    assert gone.status_code == 401 and gone.json()["code"] == "SITE_KEY_INVALID"
    assert client.post("/fonts/site-keys/fsk_nope/revoke", headers=h).status_code == 404


def test_the_three_older_key_stores_move_into_the_kernel_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    write_key, revoked_key, sdk_key, font_key = "wk_" + "a" * 32, "wk_" + "b" * 32, "ofk_" + "c" * 43, "fk_" + "d" * 24

    def sha(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    store.put(f"analytics_write_keys/{sha(write_key)}", {"tenant_id": "t_aaaaaaaaaa", "env": "dev", "site_id": "site_1",
                                                         "key_id": "key_1", "revoked": False})
    store.put(f"analytics_write_keys/{sha(revoked_key)}", {"tenant_id": "t_aaaaaaaaaa", "env": "dev",
                                                           "site_id": "site_1", "key_id": "key_2", "revoked": True})
    store.put(f"sdk_key_digests/{sha(sdk_key)}", {"tenant_id": "t_bbbbbbbbbb", "env": "prod", "key_id": "sk_1"})
    store.put(f"font_site_keys/{font_key}", {"tenant_id": "t_cccccccccc", "env": "dev", "created_at": "2026-01-01",
                                             "created_by": "u_1"})

    assert migrate(store) == {"analytics_write_keys": 2, "sdk_key_digests": 1, "font_site_keys": 1}
    assert migrate(store) == {"analytics_write_keys": 0, "sdk_key_digests": 0, "font_site_keys": 0}  # once

    grant = resolve(store, write_key, RULES["analytics.ingest"])
    assert (grant.tenant_id, grant.env, grant.key_id, grant.subject) == ("t_aaaaaaaaaa", "dev", "key_1",
                                                                         {"site_id": "site_1"})
    with pytest.raises(errors.StudioError) as revoked:
        resolve(store, revoked_key, RULES["analytics.ingest"])
    assert revoked.value.code is errors.SITE_KEY_INVALID
    assert resolve(store, sdk_key, RULES["experiments.evaluate"]).tenant_id == "t_bbbbbbbbbb"
    font = resolve(store, font_key, RULES["fonts.css"])
    listing = store.get(f"tenants/t_cccccccccc/envs/dev/font_site_keys/{font.key_id}")
    assert listing is not None and listing.data["digest"] == sha(font_key) and not listing.data["revoked"]
    assert store.get(f"font_site_keys/{font_key}") is None  # the plaintext key is gone
    with pytest.raises(errors.StudioError) as scope:
        resolve(store, font_key, RULES["experiments.evaluate"])
    assert scope.value.code is errors.SITE_KEY_SCOPE
    store.close()

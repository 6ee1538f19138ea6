"""A site with a write key, for the analytics tests (real HTTP)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.api import User, new_tenant, new_user

ORIGIN = "https://shop.example"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@dataclass
class Site:
    owner: User
    tenant: str
    site_id: str
    key: str
    key_id: str

    @property
    def admin(self) -> dict[str, str]:
        return self.owner.in_tenant(self.tenant)

    def send(self, client: httpx.Client, kind: str, body: dict[str, Any], *, origin: str | None = ORIGIN,
             key: str | None = None, user_agent: str = BROWSER) -> httpx.Response:
        headers = {"User-Agent": user_agent}
        if origin is not None:
            headers["Origin"] = origin
        return client.post(f"/analytics/{kind}", params={"key": key if key is not None else self.key},
                           json=body, headers=headers)


def new_site(client: httpx.Client, *, origins: list[str] | None = None, **site: Any) -> Site:
    owner = new_user(client, "analyst")
    tenant = new_tenant(client, owner, "Analytics")
    h = owner.in_tenant(tenant)
    made = client.post("/sites", json={"name": "Shop", "origins": origins or [ORIGIN], **site}, headers=h)
    assert made.status_code == 201, made.text
    key = client.post(f"/sites/{made.json()['id']}/keys", headers=h)
    assert key.status_code == 201, key.text
    return Site(owner, tenant, made.json()["id"], key.json()["key"], key.json()["id"])

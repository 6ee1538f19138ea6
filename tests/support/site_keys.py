"""One live and one revoked key of every site-key scope in a tenant, made through the real admin routes
(kernel/site_keys.py), for the generated route-security checks and the site-key tests."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from studio.kernel.routing import Route
from studio.kernel.site_keys import KeyPlace
from tests.support.api import User

ORIGIN = "https://shop.example"


@dataclass(frozen=True)
class ScopeKeys:
    live: str
    revoked: str


def _analytics(c: httpx.Client, h: dict[str, str]) -> ScopeKeys:
    site = c.post("/sites", json={"name": "Shop", "origins": [ORIGIN]}, headers=h)
    assert site.status_code == 201, site.text
    made = [c.post(f"/sites/{site.json()['id']}/keys", headers=h).json() for _ in range(2)]
    gone = c.delete(f"/sites/{site.json()['id']}/keys/{made[1]['id']}", headers=h)
    assert gone.status_code == 200 and gone.json()["revoked"], gone.text
    return ScopeKeys(made[0]["key"], made[1]["key"])


def _experiments(c: httpx.Client, h: dict[str, str]) -> ScopeKeys:
    made = [c.post("/flags/sdk-keys", json={"name": f"k{n}"}, headers=h).json() for n in range(2)]
    gone = c.post(f"/flags/sdk-keys/{made[1]['id']}/revoke", headers=h)
    assert gone.status_code == 200 and gone.json()["revoked"], gone.text
    return ScopeKeys(made[0]["key"], made[1]["key"])


def _fonts(c: httpx.Client, h: dict[str, str]) -> ScopeKeys:
    made = [c.post("/fonts/site-keys", headers=h).json() for _ in range(2)]
    gone = c.post(f"/fonts/site-keys/{made[1]['id']}/revoke", headers=h)
    assert gone.status_code == 200 and gone.json()["revoked"], gone.text
    return ScopeKeys(made[0]["site_key"], made[1]["site_key"])


def keys_of_every_scope(c: httpx.Client, owner: User, tenant: str) -> dict[str, ScopeKeys]:
    h = owner.in_tenant(tenant)
    return {"analytics.ingest": _analytics(c, h), "experiments.evaluate": _experiments(c, h),
            "fonts.css": _fonts(c, h)}


def site_key_request(route: Route, key: str | None, **headers: str) -> dict[str, Any]:
    """httpx.request kwargs putting ``key`` where the route's clients put it (None: nowhere)."""
    rule = route.site_key
    assert rule is not None
    params: dict[str, str] = {}
    url = route.path
    if rule.place is KeyPlace.PATH:
        url = url.replace("{" + rule.name + "}", key or "fk_" + "0" * 24)
    elif key is not None and rule.place is KeyPlace.BEARER:
        headers = {**headers, "Authorization": f"Bearer {key}"}
    elif key is not None:
        params[rule.name] = key
    url = re.sub(r"\{([a-z_]+)\}", "x_missing", url)
    return {"method": route.method, "url": url, "params": params, "headers": {"Origin": ORIGIN, **headers},
            "json": {}} if route.method != "GET" else {"method": route.method, "url": url, "params": params,
                                                       "headers": {"Origin": ORIGIN, **headers}}

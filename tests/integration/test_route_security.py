"""Deny by default, proven over every registered route (generated, not hand-listed).

A route added without auth fails here: only the explicit allowlists below may skip the
token or the tenant check, and every tenant route refuses a tenant the caller is not in.
"""
from __future__ import annotations

import re

import httpx
import pytest

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio import domains, wiring
from studio.kernel.routing import Access, Route
from tests.support.api import User, new_tenant, new_user
from tests.support.site_keys import ScopeKeys, keys_of_every_scope, site_key_request

PUBLIC_ROUTES = {
    ("POST", "/auth/signup"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/auth/verify"),
    ("POST", "/auth/password/reset"),
    ("POST", "/auth/password/reset/confirm"),
}
# No token: a site key of the route's scope names the tenant (Access.SITE_KEY, kernel/site_keys.py; decision 0095)
SITE_KEY_ROUTES = {
    ("GET", "/fonts/{site_key}/css2"): "fonts.css",  # a <link> sends no token: the key is in the path
    ("POST", "/analytics/events/pageview"): "analytics.ingest",  # a page's beacon: ?key= and the site's origins
    ("POST", "/analytics/events/cta-click"): "analytics.ingest",
    ("POST", "/analytics/events/web-vitals"): "analytics.ingest",
    ("POST", "/analytics/batch"): "analytics.ingest",
    ("POST", "/ofrep/v1/evaluate/flags/{key}"): "experiments.evaluate",  # OpenFeature providers: Bearer ofk_...
    ("POST", "/ofrep/v1/evaluate/flags"): "experiments.evaluate",
    ("GET", "/ofrep/v1/configuration"): "experiments.evaluate",
}
USER_ROUTES = {  # token required, but no tenant yet
    ("POST", "/auth/logout"),
    ("POST", "/auth/logout-all"),
    ("GET", "/auth/me"),
    ("POST", "/auth/bootstrap"),
    ("POST", "/auth/verify/resend"),
    ("POST", "/auth/password"),
    ("GET", "/auth/invitations"),
    ("POST", "/auth/invitations/{invitation_id}/accept"),
}


def _all_routes() -> list[tuple[manifest_mod.FunctionSpec, Route]]:
    return [(spec, r) for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]


ROUTES = _all_routes()
IDS = [f"{r.method} {r.path}" for _, r in ROUTES]


def _is_health(route: Route) -> bool:
    return route.path.startswith("/healthz/")


def _url(route: Route, tenant_id: str) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: tenant_id if m.group(1) == "tenant_id" else "x_missing", route.path)


def test_public_and_user_routes_are_exactly_the_allowlists() -> None:
    public = {(r.method, r.path) for _, r in ROUTES if r.access is Access.PUBLIC and not _is_health(r)}
    user = {(r.method, r.path) for _, r in ROUTES if r.access is Access.USER}
    site_key = {(r.method, r.path): r.site_key.scope for _, r in ROUTES if r.site_key is not None}
    assert public == PUBLIC_ROUTES
    assert user == USER_ROUTES
    assert site_key == SITE_KEY_ROUTES


def test_every_served_route_is_a_registered_domain_route_or_the_kernel_own() -> None:
    """The registry is the list: a route no domain row declares is not served, and a declared one is
    served exactly once. The kernel adds only each function's health route and ``/commands``."""
    declared = [(r.method, r.path) for row in domains.DOMAINS for router in row.load_routers() for r in router.routes]
    # Routes the composition root adds to a domain's function (studio/wiring.py): the gateway's tickets.
    declared += [(r.method, r.path) for router in wiring.composed_routers() for r in router.routes]
    kernel = {(r.method, r.path) for _, r in ROUTES if _is_health(r) or r.tag == "commands"}
    served = [(r.method, r.path) for _, r in ROUTES if (r.method, r.path) not in kernel]
    assert sorted(served) == sorted(declared)
    assert {path for _, path in kernel if not path.startswith("/healthz/")} == {"/commands", "/commands/types"}


def test_every_route_is_reachable_through_its_function_prefix() -> None:
    for spec, route in ROUTES:
        assert any(route.path == p or route.path.startswith(p.rstrip("/") + "/") for p in spec.routes), \
            f"{route.path} is not under any route prefix of {spec.name}"


@pytest.mark.parametrize(("spec", "route"), ROUTES, ids=IDS)
def test_route_refuses_a_caller_without_a_token(client: httpx.Client, spec: object, route: Route) -> None:
    if route.access in (Access.PUBLIC, Access.SITE_KEY):
        pytest.skip("declared public, or admitted by a site key (test_site_key_route_refuses_...)")
    r = client.request(route.method, _url(route, "t_nobody000"), json={},
                       headers={"X-Tenant-Id": "t_nobody000", "X-Env": "dev"})
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("spec", "route"), ROUTES, ids=IDS)
def test_route_refuses_a_bad_token(client: httpx.Client, spec: object, route: Route) -> None:
    if route.access in (Access.PUBLIC, Access.SITE_KEY):
        pytest.skip("declared public, or admitted by a site key (test_site_key_route_refuses_...)")
    r = client.request(route.method, _url(route, "t_nobody000"), json={},
                       headers={"Authorization": "Bearer not.a.jwt", "X-Tenant-Id": "t_nobody000", "X-Env": "dev"})
    assert r.status_code == 401, r.text
    assert r.json()["code"] == "TOKEN_INVALID"


@pytest.fixture(scope="module")
def outsider_and_foreign_tenant(platform: object) -> tuple[User, str]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:  # type: ignore[attr-defined]
        outsider = new_user(c, "outsider")
        new_tenant(c, outsider, "Outsider Inc")  # a member somewhere, just not there
        stranger = new_user(c, "stranger")
        foreign = new_tenant(c, stranger, "Foreign Ltd")
    return outsider, foreign


@pytest.mark.parametrize(("spec", "route"), [(s, r) for s, r in ROUTES if r.access is Access.TENANT],
                         ids=[i for i, (_, r) in zip(IDS, ROUTES, strict=True) if r.access is Access.TENANT])
def test_tenant_route_refuses_a_foreign_tenant(client: httpx.Client, outsider_and_foreign_tenant: tuple[User, str],
                                               spec: object, route: Route) -> None:
    outsider, foreign = outsider_and_foreign_tenant
    r = client.request(route.method, _url(route, foreign), json={}, headers=outsider.in_tenant(foreign))
    assert r.status_code in (403, 404), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] in ("NOT_A_MEMBER", "NOT_FOUND")


SITE_KEYED = [(s, r) for s, r in ROUTES if r.access is Access.SITE_KEY]


@pytest.fixture(scope="module")
def two_tenants_keys(platform: object) -> tuple[str, dict[str, ScopeKeys], dict[str, ScopeKeys]]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:  # type: ignore[attr-defined]
        mine, theirs = new_user(c, "keyholder"), new_user(c, "otherholder")
        tenant, other = new_tenant(c, mine, "Keyed"), new_tenant(c, theirs, "Other Keyed")
        return tenant, keys_of_every_scope(c, mine, tenant), keys_of_every_scope(c, theirs, other)


@pytest.mark.parametrize(("spec", "route"), SITE_KEYED, ids=[f"{r.method} {r.path}" for _, r in SITE_KEYED])
def test_site_key_route_refuses_no_key_a_revoked_key_another_scope_and_another_tenant(
        client: httpx.Client, two_tenants_keys: tuple[str, dict[str, ScopeKeys], dict[str, ScopeKeys]],
        spec: object, route: Route) -> None:
    tenant, mine, theirs = two_tenants_keys
    rule = route.site_key
    assert rule is not None

    def problem(key: str | None, status: int, code: str, **headers: str) -> None:
        r = client.request(**site_key_request(route, key, **headers))
        assert (r.status_code, r.headers["content-type"]) == (status, "application/problem+json"), r.text
        assert r.json()["code"] == code, r.text
        if status == 401:
            assert "WWW-Authenticate" in r.headers

    problem(None, 401, rule.invalid.code)
    problem(mine[rule.scope].revoked, 401, rule.invalid.code)
    for scope, keys in mine.items():
        if scope != rule.scope:
            problem(keys.live, 403, "SITE_KEY_SCOPE")
    problem(theirs[rule.scope].live, 400, "TENANT_MISMATCH", **{"X-Tenant-Id": tenant, "X-Env": "dev"})
    # and the key itself is admitted: whatever the handler says of the empty request, it is not the key
    admitted = client.request(**site_key_request(route, mine[rule.scope].live, **{"X-Tenant-Id": tenant}))
    assert admitted.status_code < 500 and admitted.status_code not in (401, 403), admitted.text

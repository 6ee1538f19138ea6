"""RFC 9110 on every answer: each 401 carries WWW-Authenticate (11.6.1), and a 405's Allow lists
HEAD wherever GET is allowed (9.3.2). Generated over every route of every function in the manifest."""
from __future__ import annotations

import re

import httpx
import pytest

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel import errors
from studio.kernel.problems import problem_response
from studio.kernel.routing import Access, Route
from tests.support.api import PASSWORD, User

ROUTES = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
GUARDED = [r for r in ROUTES if r.access in (Access.USER, Access.TENANT)]  # site-key routes: test_route_security
CHALLENGE = 'Bearer realm="studio"'
INVALID_TOKEN = 'Bearer realm="studio", error="invalid_token"'


def _url(route: Route) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: "t_nobody000" if m.group(1) == "tenant_id" else "x_missing", route.path)


def _problem_401(r: httpx.Response, code: str, challenge: str) -> None:
    assert r.status_code == 401, r.text
    assert r.json()["code"] == code
    assert r.headers["WWW-Authenticate"] == challenge


@pytest.mark.parametrize("route", GUARDED, ids=[f"{r.method} {r.path}" for r in GUARDED])
def test_every_401_of_every_route_carries_a_challenge(client: httpx.Client, route: Route) -> None:
    tenant = {"X-Tenant-Id": "t_nobody000", "X-Env": "dev"}
    _problem_401(client.request(route.method, _url(route), json={}, headers=tenant), "UNAUTHENTICATED", CHALLENGE)
    bad = client.request(route.method, _url(route), json={}, headers={**tenant, "Authorization": "Bearer not.a.jwt"})
    _problem_401(bad, "TOKEN_INVALID", INVALID_TOKEN)


def test_an_ended_session_is_an_invalid_token_challenge(client: httpx.Client, owner: User) -> None:
    assert client.post("/auth/logout", headers=owner.auth).status_code == 204
    _problem_401(client.get("/auth/me", headers=owner.auth), "TOKEN_INVALID", INVALID_TOKEN)


def test_a_wrong_password_is_challenged(client: httpx.Client, owner: User) -> None:
    r = client.post("/auth/login", json={"email": owner.email, "password": PASSWORD + "-wrong"})
    _problem_401(r, "INVALID_CREDENTIALS", CHALLENGE)


def test_a_bad_refresh_token_is_challenged(client: httpx.Client) -> None:
    r = client.post("/auth/refresh", json={"refresh_token": "rt_not-a-real-token"})
    assert r.status_code == 401 and r.json()["code"].startswith("REFRESH_TOKEN_")
    assert r.headers["WWW-Authenticate"] == CHALLENGE


def test_the_realtime_gateway_challenges_too(client: httpx.Client) -> None:
    r = client.get("/sse/meta", headers={"X-Tenant-Id": "t_nobody000", "X-Env": "dev"})
    _problem_401(r, "UNAUTHENTICATED", CHALLENGE)


@pytest.mark.parametrize("code", sorted(c.code for c in errors.registry().values() if c.status == 401))
def test_every_401_code_in_the_registry_gets_a_challenge_at_the_edge(code: str) -> None:
    """The header is added for the status, not per raise site: a new 401 code needs no change."""
    response = problem_response(errors.StudioError(errors.registry()[code]), instance="/x", request_id="r")
    assert response.headers["WWW-Authenticate"].startswith(CHALLENGE)


def test_allow_lists_head_wherever_get_is_allowed(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.put(f"/tenants/{tenant}", json={}, headers=owner.in_tenant(tenant))
    assert (r.status_code, r.json()["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "PATCH"}
    post_only = client.get("/auth/login")
    assert post_only.status_code == 405 and post_only.headers["Allow"] == "POST"


def test_head_is_served_wherever_get_is(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.head(f"/tenants/{tenant}", headers=owner.in_tenant(tenant))
    assert r.status_code == 200 and r.content == b"" and r.headers["ETag"] == '"1"'


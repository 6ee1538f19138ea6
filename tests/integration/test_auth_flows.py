"""Identity over real HTTP: sign-up, login, rotating refresh tokens, logout, JWKS rotation."""
from __future__ import annotations

import re

import httpx
import jwt

from tests.support.api import PASSWORD, new_tenant, new_user


def test_signup_validates_password_and_email(client: httpx.Client) -> None:
    weak = client.post("/auth/signup", json={"email": "weak@example.com", "password": "short"})
    assert weak.status_code == 422
    assert weak.json()["code"] == "WEAK_PASSWORD"
    assert weak.json()["errors"][0]["field"] == "body.password"
    bad = client.post("/auth/signup", json={"email": "not-an-email", "password": PASSWORD})
    assert bad.status_code == 400
    assert bad.json()["code"] == "VALIDATION_FAILED"
    assert bad.headers["content-type"] == "application/problem+json"


def test_taken_email_is_refused_case_insensitively(client: httpx.Client) -> None:
    user = new_user(client)
    again = client.post("/auth/signup", json={"email": user.email.upper(), "password": PASSWORD})
    assert again.status_code == 409
    assert again.json()["code"] == "EMAIL_TAKEN"


def test_wrong_password_and_unknown_email_look_the_same(client: httpx.Client) -> None:
    user = new_user(client)
    wrong = client.post("/auth/login", json={"email": user.email, "password": "Wrong-pass-999"})
    unknown = client.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["code"] == unknown.json()["code"] == "INVALID_CREDENTIALS"


def test_login_shape_and_me(client: httpx.Client) -> None:
    user = new_user(client)
    r = client.post("/auth/login", json={"email": user.email, "password": PASSWORD})
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {"user_id": user.user_id, "email": user.email, "email_verified": False, "display_name": None,
                         "memberships": []}


def test_bootstrap_creates_owned_tenant(client: httpx.Client) -> None:
    user = new_user(client)
    r = client.post("/auth/bootstrap", json={"tenant_name": "Studio"}, headers=user.auth)
    assert r.status_code == 201
    assert re.match(r"^t_[a-z0-9]{3,}$", r.json()["tenant_id"])
    assert r.json()["role"] == "owner"
    me = client.get("/auth/me", headers=user.auth).json()
    assert me["memberships"] == [{"tenant_id": r.json()["tenant_id"], "role": "owner"}]


def test_refresh_rotates(client: httpx.Client) -> None:
    """Reuse of a consumed token (grace, then family revocation): test_refresh_grace.py."""
    user = new_user(client)
    first = client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}).status_code == 200
    second = client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert second.status_code == 200 and second.json()["refresh_token"] != rotated["refresh_token"]


def test_refresh_garbage_is_a_clean_401(client: httpx.Client) -> None:
    for token in ("garbage", "rt_x.y", "rt_" + "a" * 100 + ".b"):
        r = client.post("/auth/refresh", json={"refresh_token": token})
        assert r.status_code == 401 and r.json()["code"] == "REFRESH_TOKEN_INVALID"


def test_logout_ends_access_and_refresh(client: httpx.Client) -> None:
    user = new_user(client)
    assert client.post("/auth/logout", headers=user.auth).status_code == 204
    assert client.get("/auth/me", headers=user.auth).status_code == 401
    assert client.post("/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401


def test_jwks_verifies_tokens_and_rotation_logs_nobody_out(client: httpx.Client, platform: object) -> None:
    user = new_user(client)
    jwks = client.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(user.access_token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    assert "d" not in key  # never the private half
    claims = jwt.decode(user.access_token, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience="studio")
    assert claims["sub"] == user.user_id

    new_kid = platform.deps.keyring.rotate()  # type: ignore[attr-defined]
    assert client.get("/auth/me", headers=user.auth).status_code == 200  # old key still honoured
    fresh = client.post("/auth/login", json={"email": user.email, "password": PASSWORD}).json()
    assert jwt.get_unverified_header(fresh["access_token"])["kid"] == new_kid
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert {kid, new_kid} <= kids


def test_tenant_call_needs_tenant_headers(client: httpx.Client) -> None:
    user = new_user(client)
    tenant = new_tenant(client, user)
    missing = client.get(f"/tenants/{tenant}", headers=user.auth)
    assert missing.status_code == 400 and missing.json()["code"] == "TENANT_REQUIRED"
    bad_env = client.get(f"/tenants/{tenant}", headers={**user.in_tenant(tenant), "X-Env": "qa"})
    assert bad_env.status_code == 400
    stage = client.get(f"/tenants/{tenant}", headers={**user.in_tenant(tenant), "X-Env": "stage"})
    assert stage.status_code == 200  # normalised to staging
    other = new_tenant(client, user, "Second")
    mismatch = client.get(f"/tenants/{tenant}", headers=user.in_tenant(other))
    assert mismatch.status_code == 400 and mismatch.json()["code"] == "TENANT_MISMATCH"

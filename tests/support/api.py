"""Small client helpers: sign up, log in, make tenants. Everything goes over real HTTP."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import httpx

PASSWORD = "Correct-Horse-42"
_counter = itertools.count()


@dataclass
class User:
    email: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def in_tenant(self, tenant_id: str, env: str = "dev") -> dict[str, str]:
        return {**self.auth, "X-Tenant-Id": tenant_id, "X-Env": env}


def new_user(client: httpx.Client, prefix: str = "user") -> User:
    email = f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"
    r = client.post("/auth/signup", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text
    user_id = r.json()["user_id"]
    r = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    tokens = r.json()
    return User(email, user_id, tokens["access_token"], tokens["refresh_token"])


def new_tenant(client: httpx.Client, owner: User, name: str = "Acme") -> str:
    r = client.post("/auth/bootstrap", json={"tenant_name": name}, headers=owner.auth)
    assert r.status_code == 201, r.text
    return str(r.json()["tenant_id"])


def add_member(client: httpx.Client, owner: User, tenant_id: str, member: User, role: str) -> dict:
    r = client.post(f"/tenants/{tenant_id}/members", json={"email": member.email, "role": role},
                    headers=owner.in_tenant(tenant_id))
    assert r.status_code == 201, r.text
    return dict(r.json())

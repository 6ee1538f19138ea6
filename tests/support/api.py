"""Small client helpers: sign up, log in, verify, make tenants, invite. Everything goes over real HTTP."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

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


def mails_to(client: httpx.Client, address: str) -> list[dict[str, Any]]:
    """The local outbox's mails to ``address``, newest first (the console's JSON, loopback only)."""
    r = client.get("/console/outbox.json", params={"to": address})
    assert r.status_code == 200, r.text
    return list(r.json()["mails"])


def latest_token(client: httpx.Client, address: str, kind: str) -> str:
    mail = next((m for m in mails_to(client, address) if m["kind"] == kind), None)
    assert mail is not None, f"no {kind} mail to {address}"
    return str(mail["token"])


def verify_email(client: httpx.Client, user: User) -> None:
    r = client.post("/auth/verify", json={"token": latest_token(client, user.email, "verify_email")})
    assert r.status_code == 200 and r.json()["email_verified"], r.text


def invite(client: httpx.Client, admin: User, tenant_id: str, email: str, role: str) -> httpx.Response:
    return client.post(f"/tenants/{tenant_id}/invitations", json={"email": email, "role": role},
                       headers=admin.in_tenant(tenant_id))


def add_member(client: httpx.Client, owner: User, tenant_id: str, member: User, role: str) -> dict:
    """Make ``member`` a member the only way there is: verify, get invited, accept."""
    if not client.get("/auth/me", headers=member.auth).json()["email_verified"]:
        verify_email(client, member)
    invitation = invite(client, owner, tenant_id, member.email, role)
    assert invitation.status_code == 201, invitation.text
    r = client.post(f"/auth/invitations/{invitation.json()['invitation_id']}/accept", headers=member.auth)
    assert r.status_code == 201, r.text
    return dict(r.json())

"""Sign-up mails a verification code to the local outbox; /auth/verify proves the address; an
unverified account still signs in and uses the tenants it made; lookalike addresses are refused."""
from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.api import (
    PASSWORD,
    User,
    invite,
    latest_token,
    mails_to,
    new_tenant,
    new_user,
    verify_email,
)

LOOKALIKES = {  # of "ada@example.com", each with the reason it is refused
    "cyrillic": ("\u0430da@example.com", "mixed_script"),
    "fullwidth": ("\uff41\uff44\uff41@example.com", "compatibility"),
    "zero-width": ("a\u200bda@example.com", "invisible"),
    "combining-accent": ("a\u0301da@example.com", "combining"),
}


def test_signup_mails_a_code_that_verifies_the_address(client: httpx.Client) -> None:
    user = new_user(client, "verify")
    me = client.get("/auth/me", headers=user.auth).json()
    assert me["email_verified"] is False
    [mail] = mails_to(client, user.email)
    assert mail["kind"] == "verify_email" and mail["token"] in mail["text"]
    verified = client.post("/auth/verify", json={"token": mail["token"]})
    assert verified.status_code == 200
    assert verified.json() == {"user_id": user.user_id, "email": user.email, "email_verified": True}
    assert client.get("/auth/me", headers=user.auth).json()["email_verified"] is True
    again = client.post("/auth/verify", json={"token": mail["token"]})  # a second click is not an error
    assert again.status_code == 200 and again.json()["email_verified"] is True


@pytest.mark.parametrize("token", ["garbage", "ev_x.y", "pr_abc.def", "ev_" + "0" * 24 + ".forged", "ev_" + "a" * 80 + ".b"])
def test_a_bad_code_is_a_stable_400(client: httpx.Client, token: str) -> None:
    r = client.post("/auth/verify", json={"token": token})
    assert r.status_code == 400 and r.json()["code"] == "VERIFICATION_TOKEN_INVALID"


def test_a_code_verifies_only_its_own_account(client: httpx.Client) -> None:
    ada, bob = new_user(client, "ada"), new_user(client, "bob")
    rid, _, _ = latest_token(client, ada.email, "verify_email").partition(".")
    _, _, bob_secret = latest_token(client, bob.email, "verify_email").partition(".")
    spliced = client.post("/auth/verify", json={"token": f"{rid}.{bob_secret}"})
    assert spliced.status_code == 400
    assert client.get("/auth/me", headers=ada.auth).json()["email_verified"] is False


def test_resend_mails_a_fresh_code_at_most_once_a_minute(client: httpx.Client) -> None:
    user = new_user(client, "resend")
    first = client.post("/auth/verify/resend", headers=user.auth)
    assert first.status_code == 202 and first.json()["email_verified"] is False
    assert len(mails_to(client, user.email)) == 1  # sign-up mailed one within the minute: no second
    verify_email(client, user)
    done = client.post("/auth/verify/resend", headers=user.auth)
    assert done.status_code == 202 and done.json()["email_verified"] is True
    assert len(mails_to(client, user.email)) == 1


def test_an_unverified_account_signs_in_and_uses_its_own_tenant(client: httpx.Client) -> None:
    """The README's walk: sign up, log in, bootstrap, work, with no mail read."""
    user = new_user(client, "walk")
    tenant = new_tenant(client, user, "Unverified Studio")
    assert client.get(f"/tenants/{tenant}", headers=user.in_tenant(tenant)).status_code == 200
    thread = client.post("/chat/threads", json={}, headers=user.in_tenant(tenant))
    assert thread.status_code == 201, thread.text


@pytest.mark.parametrize("kind", sorted(LOOKALIKES))
def test_lookalike_addresses_are_refused_at_signup(client: httpx.Client, kind: str) -> None:
    address, reason = LOOKALIKES[kind]
    r = client.post("/auth/signup", json={"email": address, "password": PASSWORD})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "EMAIL_UNSAFE" and r.json()["reason"] == reason
    assert r.json()["errors"][0]["field"] == "body.email"


@pytest.mark.parametrize("kind", sorted(LOOKALIKES))
def test_lookalike_addresses_are_refused_as_invitations(client: httpx.Client, owner: User, tenant: str,
                                                        kind: str) -> None:
    address, reason = LOOKALIKES[kind]
    r = invite(client, owner, tenant, address, "admin")
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "EMAIL_UNSAFE" and r.json()["reason"] == reason
    listed = client.get(f"/tenants/{tenant}/invitations", headers=owner.in_tenant(tenant)).json()["invitations"]
    assert listed == []


def test_addresses_are_stored_lower_case_and_taken_whatever_the_case(client: httpx.Client) -> None:
    local = f"Mixed.Case-{uuid.uuid4().hex[:6]}"
    r = client.post("/auth/signup", json={"email": f"{local}@Example.COM", "password": PASSWORD})
    assert r.status_code == 201 and r.json()["email"] == f"{local.lower()}@example.com"
    login = client.post("/auth/login", json={"email": f"{local.upper()}@EXAMPLE.com", "password": PASSWORD})
    assert login.status_code == 200

"""Joining a tenant takes an invitation that the invitee accepts with the invited address
VERIFIED: a squatter who registered the address first gets nothing, and nobody is put into a
tenant without saying yes."""
from __future__ import annotations

import json
import uuid

import httpx

from tests.support.api import (
    PASSWORD,
    User,
    add_member,
    invite,
    latest_token,
    mails_to,
    new_tenant,
    new_user,
    verify_email,
)
from tests.support.platform import RunningPlatform


def _accept(client: httpx.Client, user: User, invitation_id: str) -> httpx.Response:
    return client.post(f"/auth/invitations/{invitation_id}/accept", headers=user.auth)


def _login(client: httpx.Client, email: str, password: str = PASSWORD) -> User:
    r = client.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    return User(email, me["user_id"], r.json()["access_token"], r.json()["refresh_token"])


def test_a_squatter_cannot_take_the_invited_role_and_the_owner_takes_the_address_back(
        client: httpx.Client, owner: User, tenant: str) -> None:
    address = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    squatter_signup = client.post("/auth/signup", json={"email": address, "password": "Squatter-Pass-1"})
    assert squatter_signup.status_code == 201
    squatter = _login(client, address, "Squatter-Pass-1")

    invitation = invite(client, owner, tenant, address, "admin")
    assert invitation.status_code == 201, invitation.text
    inv = invitation.json()
    assert (inv["email"], inv["role"], inv["status"]) == (address, "admin", "pending")
    assert client.get(f"/tenants/{tenant}/members", headers=owner.in_tenant(tenant)).json()["members"] == [
        {"tenant_id": tenant, "user_id": owner.user_id, "email": owner.email, "role": "owner", "rev": 1}]
    assert [m["kind"] for m in mails_to(client, address)][0] == "invitation"

    # The squatter holds the account but not the mailbox: no verification, no invitation.
    refused = _accept(client, squatter, inv["invitation_id"])
    assert refused.status_code == 403 and refused.json()["code"] == "EMAIL_NOT_VERIFIED"
    assert client.get("/auth/invitations", headers=squatter.auth).json() == {"invitations": []}
    assert client.get(f"/tenants/{tenant}", headers=squatter.in_tenant(tenant)).json()["code"] == "NOT_A_MEMBER"

    # The mailbox's owner resets the password from the mail: the address is proven, the squatter is out.
    assert client.post("/auth/password/reset", json={"email": address}).status_code == 202
    reset = client.post("/auth/password/reset/confirm",
                        json={"token": latest_token(client, address, "password_reset"), "new_password": "Owner-Pass-42"})
    assert reset.status_code == 200 and reset.json()["sessions_ended"] == 1
    assert client.get("/auth/me", headers=squatter.auth).status_code == 401
    ada = _login(client, address, "Owner-Pass-42")
    assert client.get("/auth/me", headers=ada.auth).json()["email_verified"] is True
    mine = client.get("/auth/invitations", headers=ada.auth).json()["invitations"]
    assert [(i["invitation_id"], i["tenant_name"]) for i in mine] == [(inv["invitation_id"], "Acme")]
    joined = _accept(client, ada, inv["invitation_id"])
    assert joined.status_code == 201, joined.text
    assert (joined.json()["tenant_id"], joined.json()["role"]) == (tenant, "admin")
    assert client.get(f"/tenants/{tenant}", headers=ada.in_tenant(tenant)).status_code == 200
    twice = _accept(client, ada, inv["invitation_id"])
    assert twice.status_code == 404  # its pointer is gone once accepted
    listed = client.get(f"/tenants/{tenant}/invitations", headers=owner.in_tenant(tenant)).json()["invitations"]
    assert [(i["invitation_id"], i["status"]) for i in listed] == [(inv["invitation_id"], "accepted")]


def test_an_invitation_binds_to_its_address_only(client: httpx.Client, owner: User, tenant: str) -> None:
    invitee, other = new_user(client, "invitee"), new_user(client, "other")
    verify_email(client, other)
    inv = invite(client, owner, tenant, invitee.email, "member").json()
    stolen = _accept(client, other, inv["invitation_id"])
    assert stolen.status_code == 404 and stolen.json()["code"] == "NOT_FOUND"
    assert client.get("/auth/invitations", headers=other.auth).json() == {"invitations": []}
    verify_email(client, invitee)
    assert _accept(client, invitee, inv["invitation_id"]).status_code == 201


def test_revoked_invitations_cannot_be_accepted(client: httpx.Client, owner: User, tenant: str) -> None:
    invitee = new_user(client, "revoked")
    verify_email(client, invitee)
    inv = invite(client, owner, tenant, invitee.email, "member").json()
    gone = client.delete(f"/tenants/{tenant}/invitations/{inv['invitation_id']}", headers=owner.in_tenant(tenant))
    assert gone.status_code == 204
    assert _accept(client, invitee, inv["invitation_id"]).status_code == 404
    again = client.delete(f"/tenants/{tenant}/invitations/{inv['invitation_id']}", headers=owner.in_tenant(tenant))
    assert again.status_code == 409 and again.json()["code"] == "INVITATION_NOT_PENDING"
    listed = client.get(f"/tenants/{tenant}/invitations", headers=owner.in_tenant(tenant)).json()["invitations"]
    assert [i["status"] for i in listed] == ["revoked"]
    assert invite(client, owner, tenant, invitee.email, "member").status_code == 201  # may be invited anew


def test_an_inviter_who_lost_the_rank_no_longer_vouches(client: httpx.Client, owner: User, tenant: str) -> None:
    admin, invitee = new_user(client, "admin"), new_user(client, "late")
    add_member(client, owner, tenant, admin, "admin")
    verify_email(client, invitee)
    inv = invite(client, admin, tenant, invitee.email, "admin").json()
    assert client.delete(f"/tenants/{tenant}/members/{admin.user_id}",
                         headers={**owner.in_tenant(tenant), "If-Match": "*"}).status_code == 204
    late = _accept(client, invitee, inv["invitation_id"])
    assert late.status_code == 409 and late.json()["code"] == "INVITATION_NOT_PENDING"


def test_invitation_rules(client: httpx.Client, owner: User, tenant: str) -> None:
    member, target = new_user(client, "member"), new_user(client, "target")
    add_member(client, owner, tenant, member, "member")
    by_member = invite(client, member, tenant, target.email, "viewer")
    assert by_member.status_code == 403 and by_member.json()["code"] == "ROLE_INSUFFICIENT"
    listing = client.get(f"/tenants/{tenant}/invitations", headers=member.in_tenant(tenant))
    assert listing.status_code == 403
    assert invite(client, owner, tenant, target.email, "viewer").status_code == 201
    pending = invite(client, owner, tenant, target.email.upper(), "admin")
    assert pending.status_code == 409 and pending.json()["code"] == "ALREADY_EXISTS"
    already = invite(client, owner, tenant, member.email, "viewer")
    assert already.status_code == 409 and already.json()["code"] == "ALREADY_EXISTS"
    # Another tenant's admin sees and revokes nothing here.
    stranger = new_user(client, "stranger")
    theirs = new_tenant(client, stranger, "Theirs")
    inv_id = client.get(f"/tenants/{tenant}/invitations", headers=owner.in_tenant(tenant)).json()["invitations"][0]
    cross = client.delete(f"/tenants/{theirs}/invitations/{inv_id['invitation_id']}",
                          headers=stranger.in_tenant(theirs))
    assert cross.status_code == 404
    assert client.get(f"/tenants/{theirs}/invitations", headers=stranger.in_tenant(theirs)).json() == {
        "invitations": []}


def test_invitations_emit_member_events(client: httpx.Client, owner: User, tenant: str,
                                        platform: RunningPlatform) -> None:
    bus = platform.deps.bus
    sub = f"test-invitations-{uuid.uuid4().hex[:8]}"
    bus.subscribe(sub, "domain.member")
    invitee = new_user(client, "events")
    verify_email(client, invitee)
    inv = invite(client, owner, tenant, invitee.email, "viewer").json()
    assert _accept(client, invitee, inv["invitation_id"]).status_code == 201
    platform.drain()
    events = []
    while deliveries := bus.pull(sub, 100):  # acked as read: one ordering key delivers one at a time
        events += [json.loads(d.message.data) for d in deliveries]
        for d in deliveries:
            bus.ack(d)
    # Not the owner's own member.added from creating the tenant (relayed late, it may reach this subscription).
    events = [e for e in events if e["tenant_id"] == tenant and e["data"].get("user_id") != owner.user_id]
    ours = [(e["type"], e["data"].get("invitation_id")) for e in events]
    assert ours == [("member.invited", inv["invitation_id"]), ("member.added", inv["invitation_id"])]
    added = next(e for e in events if e["type"] == "member.added")
    assert added["data"]["user_id"] == invitee.user_id and added["data"]["role"] == "viewer"

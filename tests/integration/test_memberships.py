"""Roles per route, membership management, and the last-owner invariant."""
from __future__ import annotations

import httpx

from tests.support.api import User, add_member, invite, new_user


def _patch_role(client: httpx.Client, actor: User, tenant: str, member_id: str, role: str) -> httpx.Response:
    current = client.get(f"/tenants/{tenant}/members", headers=actor.in_tenant(tenant)).json()["members"]
    rev = next(m["rev"] for m in current if m["user_id"] == member_id)
    return client.patch(f"/tenants/{tenant}/members/{member_id}", json={"role": role, "base_rev": rev},
                        headers=actor.in_tenant(tenant))


def test_role_change_applies_on_the_next_request(client: httpx.Client, owner: User, tenant: str) -> None:
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    rename = {"name": "By viewer", "base_rev": 1}
    denied = client.patch(f"/tenants/{tenant}", json=rename, headers=viewer.in_tenant(tenant))
    assert denied.status_code == 403 and denied.json()["code"] == "ROLE_INSUFFICIENT"
    assert _patch_role(client, owner, tenant, viewer.user_id, "admin").status_code == 200
    allowed = client.patch(f"/tenants/{tenant}", json=rename, headers=viewer.in_tenant(tenant))
    assert allowed.status_code == 200, allowed.text
    assert _patch_role(client, owner, tenant, viewer.user_id, "viewer").status_code == 200
    again = client.patch(f"/tenants/{tenant}", json={"name": "x", "base_rev": 2}, headers=viewer.in_tenant(tenant))
    assert again.status_code == 403


def test_removed_member_loses_access_at_once(client: httpx.Client, owner: User, tenant: str) -> None:
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    assert client.get(f"/tenants/{tenant}", headers=member.in_tenant(tenant)).status_code == 200
    gone = client.delete(f"/tenants/{tenant}/members/{member.user_id}", headers={**owner.in_tenant(tenant), "If-Match": "*"})
    assert gone.status_code == 204
    after = client.get(f"/tenants/{tenant}", headers=member.in_tenant(tenant))
    assert after.status_code == 403 and after.json()["code"] == "NOT_A_MEMBER"
    me = client.get("/auth/me", headers=member.auth).json()
    assert me["memberships"] == []


def test_last_owner_cannot_be_demoted_or_removed(client: httpx.Client, owner: User, tenant: str) -> None:
    demote = _patch_role(client, owner, tenant, owner.user_id, "admin")
    assert demote.status_code == 409 and demote.json()["code"] == "LAST_OWNER"
    leave = client.delete(f"/tenants/{tenant}/members/{owner.user_id}", headers={**owner.in_tenant(tenant), "If-Match": "*"})
    assert leave.status_code == 409 and leave.json()["code"] == "LAST_OWNER"
    second = new_user(client, "second-owner")
    add_member(client, owner, tenant, second, "owner")
    assert _patch_role(client, second, tenant, owner.user_id, "admin").status_code == 200
    last = _patch_role(client, second, tenant, second.user_id, "member")
    assert last.status_code == 409 and last.json()["code"] == "LAST_OWNER"


def test_admin_cannot_grant_or_touch_ownership(client: httpx.Client, owner: User, tenant: str) -> None:
    admin = new_user(client, "admin")
    add_member(client, owner, tenant, admin, "admin")
    target = new_user(client, "target")
    grant = invite(client, admin, tenant, target.email, "owner")
    assert grant.status_code == 403 and grant.json()["code"] == "ROLE_INSUFFICIENT"
    demote_owner = _patch_role(client, admin, tenant, owner.user_id, "member")
    assert demote_owner.status_code == 403
    add_member(client, admin, tenant, target, "member")


def test_members_are_listed_and_added_only_by_invitation(client: httpx.Client, owner: User, tenant: str) -> None:
    listed = client.get(f"/tenants/{tenant}/members", headers=owner.in_tenant(tenant)).json()["members"]
    assert [(m["user_id"], m["role"]) for m in listed] == [(owner.user_id, "owner")]
    # The old direct add is gone: nobody is put into a tenant without accepting.
    direct = client.post(f"/tenants/{tenant}/members", json={"email": owner.email, "role": "member"},
                         headers=owner.in_tenant(tenant))
    assert direct.status_code == 405 and direct.json()["code"] == "METHOD_NOT_ALLOWED"
    dup = new_user(client, "dup")
    add_member(client, owner, tenant, dup, "viewer")
    again = invite(client, owner, tenant, dup.email, "viewer")
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_EXISTS"

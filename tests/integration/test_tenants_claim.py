"""The ``tenants`` claim end to end on the local runtime: real HTTP, real SQLite, the real bus.

Membership changes go API -> outbox -> ``domain.member`` -> the ``identity_claims`` function (loaded
from functions/manifest.yaml like every event function) -> the store adapter the built-in issuer uses
(STUDIO_AUTH=local). Delivery is driven with ``drain``.
"""
from __future__ import annotations

import httpx

from studio.adapters.store_claims import StoreCustomClaims
from studio.kernel.events import DomainEvent
from studio.ports.claims import TENANTS_CLAIM
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.platform import RunningPlatform


def _claim(platform: RunningPlatform, user: User) -> dict[str, str] | None:
    platform.drain()
    claims = platform.deps.claims
    assert isinstance(claims, StoreCustomClaims)  # bootstrap's choice for the built-in issuer
    return claims.claims_of(user.user_id).get(TENANTS_CLAIM)


def _role(client: httpx.Client, owner: User, tenant: str, member: User, role: str) -> None:
    h = owner.in_tenant(tenant)
    rev = next(m["rev"] for m in client.get(f"/tenants/{tenant}/members", headers=h).json()["members"]
               if m["user_id"] == member.user_id)
    r = client.patch(f"/tenants/{tenant}/members/{member.user_id}", json={"role": role, "base_rev": rev}, headers=h)
    assert r.status_code == 200, r.text


def test_every_membership_change_reaches_the_claim(client: httpx.Client, platform: RunningPlatform) -> None:
    before = platform.platform.delivery.counters["identity_claims.delivered"]
    owner = new_user(client, "claims-owner")
    first = new_tenant(client, owner, "First")
    assert _claim(platform, owner) == {first: "owner"}  # the creator's member.added

    second = new_tenant(client, owner, "Second")
    member = new_user(client, "claims-member")
    add_member(client, owner, first, member, "viewer")
    add_member(client, owner, second, member, "member")
    assert _claim(platform, owner) == {first: "owner", second: "owner"}
    assert _claim(platform, member) == {first: "viewer", second: "member"}

    _role(client, owner, first, member, "admin")
    assert list((_claim(platform, member) or {}).items()) == [(first, "admin"), (second, "member")]  # ranked

    gone = client.delete(f"/tenants/{second}/members/{member.user_id}", headers={**member.in_tenant(second),
                                                                                 "If-Match": "*"})
    assert gone.status_code == 204, gone.text  # leaving
    assert _claim(platform, member) == {first: "admin"}
    assert platform.platform.delivery.counters["identity_claims.delivered"] - before >= 7


def test_a_late_or_repeated_event_cannot_bring_back_a_removed_membership(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    member = new_user(client, "claims-late")
    add_member(client, owner, tenant, member, "member")
    assert _claim(platform, member) == {tenant: "member"}
    r = client.delete(f"/tenants/{tenant}/members/{member.user_id}", headers={**owner.in_tenant(tenant),
                                                                              "If-Match": "*"})
    assert r.status_code == 204, r.text
    assert _claim(platform, member) is None
    # The member.added of a moment ago, delivered again after the removal (Pub/Sub may redeliver and
    # does not order across keys): the function writes the current truth, not the event.
    late = DomainEvent("member.added", tenant, "dev", f"tenants/{tenant}",
                       {"user_id": member.user_id, "role": "member"}).to_outbox("domain.member")
    platform.deps.bus.publish(late.topic, late.data, dict(late.attributes), late.ordering_key)
    assert _claim(platform, member) is None

"""The ``tenants`` custom claim: its ranking, the 1,000-byte budget, and the sync that writes it.

The sync runs on the real SQLite store with the store adapter (the local choice of the port).
"""
from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from studio.adapters.sqlite_store import SqliteStore
from studio.adapters.store_claims import StoreCustomClaims, claims_path
from studio.identity.claims import MAX_PASSES, TenantsClaimSync, tenants_claim
from studio.identity.memberships import MembershipRepo
from studio.identity.tenants import TenantService
from studio.kernel import cloudevents, errors
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.ports.bus import BusMessage
from studio.ports.claims import CLAIMS_BUDGET_BYTES, TENANTS_CLAIM, claims_size, fit_tenants, serialized


def _tenant(n: int) -> str:
    """A tenant id shaped like TenantService's: t_ + 12 of [a-z0-9]."""
    alphabet = string.ascii_lowercase + string.digits
    digits = []
    for _ in range(12):
        n, d = divmod(n, len(alphabet))
        digits.append(alphabet[d])
    return "t_" + "".join(reversed(digits))


# -- ranking ---------------------------------------------------------------------------------------


def test_the_claim_ranks_higher_roles_first_then_tenant_ids() -> None:
    memberships = [{"tenant_id": "t_d", "role": "viewer"}, {"tenant_id": "t_c", "role": "owner"},
                   {"tenant_id": "t_b", "role": "member"}, {"tenant_id": "t_e", "role": "admin"},
                   {"tenant_id": "t_a", "role": "owner"}, {"tenant_id": "t_f", "role": "member"}]
    claim = tenants_claim(memberships)
    assert list(claim.items()) == [("t_a", "owner"), ("t_c", "owner"), ("t_e", "admin"), ("t_b", "member"),
                                   ("t_f", "member"), ("t_d", "viewer")]
    assert tenants_claim(list(reversed(memberships))) == claim and list(tenants_claim(memberships[::-1])) == list(claim)
    assert tenants_claim([]) == {}


# -- the budget ------------------------------------------------------------------------------------


def test_a_few_tenants_fit_whole_beside_the_other_claims() -> None:
    claims, kept = fit_tenants({"plan": "pro"}, {"t_a": "owner", "t_b": "viewer"})
    assert kept == {"t_a": "owner", "t_b": "viewer"}
    assert claims == {"plan": "pro", TENANTS_CLAIM: kept}
    assert serialized(claims) == '{"plan":"pro","tenants":{"t_a":"owner","t_b":"viewer"}}'  # compact


def test_beyond_the_budget_the_claim_keeps_the_longest_prefix_that_fits() -> None:
    ranked = tenants_claim([{"tenant_id": _tenant(i), "role": "owner" if i % 7 == 0 else "member"}
                            for i in range(100)])
    claims, kept = fit_tenants({}, ranked)
    assert kept is not None and 20 < len(kept) < len(ranked)
    assert list(kept) == list(ranked)[:len(kept)]  # a prefix: owners first, nothing skipped
    assert claims_size(claims) <= CLAIMS_BUDGET_BYTES
    next_one = list(ranked.items())[len(kept)]
    assert claims_size({TENANTS_CLAIM: {**kept, next_one[0]: next_one[1]}}) > CLAIMS_BUDGET_BYTES
    assert len(json.dumps(claims, separators=(",", ":"))) == claims_size(claims)  # what Firebase measures


def test_other_claims_shrink_the_room_and_are_never_dropped() -> None:
    ranked = {_tenant(i): "member" for i in range(60)}
    _, alone = fit_tenants({}, ranked)
    others = {"plan": "enterprise", "flags": ["a" * 300]}
    claims, kept = fit_tenants(others, ranked)
    assert kept is not None and alone is not None and len(kept) < len(alone)
    assert claims["plan"] == "enterprise" and claims["flags"] == ["a" * 300]
    assert claims_size(claims) <= CLAIMS_BUDGET_BYTES


def test_no_room_or_no_tenants_leaves_the_claim_out_and_replaces_a_stale_one() -> None:
    stale = {"plan": "x", TENANTS_CLAIM: {"t_gone": "owner"}}
    assert fit_tenants(stale, None) == ({"plan": "x"}, None)
    assert fit_tenants(stale, {}) == ({"plan": "x"}, None)
    crowded = {"blob": "b" * 990}
    assert fit_tenants(crowded, {"t_a": "owner"}) == (crowded, None)
    assert fit_tenants(stale, {"t_new": "viewer"}) == ({"plan": "x", TENANTS_CLAIM: {"t_new": "viewer"}},
                                                      {"t_new": "viewer"})


# -- the sync, on the real store ------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "store.db")


def _system(tenant_id: str) -> RequestContext:
    return RequestContext(tenant_id, "dev", Principal("system", is_system=True), None)


def _member_of(store: SqliteStore, user_id: str, count: int, role: Role = Role.MEMBER) -> list[str]:
    tenants = TenantService(store)
    repo = MembershipRepo(store)
    made = []
    for i in range(count):
        tenant_id = tenants.bootstrap(Principal(f"founder{i}"), f"T{i}")
        repo.add(_system(tenant_id), user_id, f"{user_id}@example.com", role)
        made.append(tenant_id)
    return made


def test_sync_writes_the_whole_claim_and_keeps_other_claims(store: SqliteStore) -> None:
    claims = StoreCustomClaims(store)
    store.put(claims_path("ada"), {"user_id": "ada", "claims": {"plan": "pro"}})
    tenant_ids = _member_of(store, "ada", 3)
    sync = TenantsClaimSync(MembershipRepo(store), claims)
    assert sync.sync("ada") == dict.fromkeys(sorted(tenant_ids), "member")
    assert claims.claims_of("ada") == {"plan": "pro", TENANTS_CLAIM: dict.fromkeys(sorted(tenant_ids), "member")}
    rev = store.get(claims_path("ada")).rev  # type: ignore[union-attr]
    assert sync.sync("ada") == dict.fromkeys(sorted(tenant_ids), "member")
    assert store.get(claims_path("ada")).rev == rev  # type: ignore[union-attr]  # unchanged: not rewritten
    MembershipRepo(store).remove(_system(tenant_ids[0]), "ada", base_rev=1)
    assert sync.sync("ada") == dict.fromkeys(sorted(tenant_ids[1:]), "member")
    for tenant_id in tenant_ids[1:]:
        MembershipRepo(store).remove(_system(tenant_id), "ada", base_rev=1)
    assert sync.sync("ada") is None
    assert claims.claims_of("ada") == {"plan": "pro"}  # the claim is gone, the other claim stays


def test_a_user_of_many_tenants_gets_a_claim_within_the_budget(store: SqliteStore) -> None:
    tenant_ids = _member_of(store, "bea", 45)
    written = TenantsClaimSync(MembershipRepo(store), StoreCustomClaims(store)).sync("bea")
    assert written is not None and 0 < len(written) < len(tenant_ids)
    assert list(written) == sorted(tenant_ids)[:len(written)]
    assert claims_size(StoreCustomClaims(store).claims_of("bea")) <= CLAIMS_BUDGET_BYTES


class RemovesDuringTheWrite:
    """A CustomClaims whose first write lands AFTER a concurrent removal: the interleaving where a
    handler holding an older read would leave a tenant in the claim that the user has left."""

    def __init__(self, inner: StoreCustomClaims, remove: Callable[[], None]) -> None:
        self.inner = inner
        self.remove: Callable[[], None] | None = remove
        self.writes: list[dict[str, str]] = []

    def set_tenants(self, user_id: str, tenants: Mapping[str, str] | None) -> dict[str, str] | None:
        if self.remove is not None:
            self.remove()
            self.remove = None
        self.writes.append(dict(tenants or {}))
        return self.inner.set_tenants(user_id, tenants)


def test_a_stale_write_is_corrected_by_reading_the_memberships_again(store: SqliteStore) -> None:
    kept, left = _member_of(store, "cy", 2)
    port = RemovesDuringTheWrite(StoreCustomClaims(store),
                                 lambda: MembershipRepo(store).remove(_system(left), "cy", base_rev=1))
    written = TenantsClaimSync(MembershipRepo(store), port).sync("cy")
    assert port.writes[0] == {kept: "member", left: "member"}  # the stale truth was written first ...
    assert written == {kept: "member"}  # ... and replaced
    assert StoreCustomClaims(store).claims_of("cy")[TENANTS_CLAIM] == {kept: "member"}


def test_memberships_that_never_settle_fail_the_delivery(store: SqliteStore) -> None:
    _member_of(store, "dee", 1)
    repo = MembershipRepo(store)

    class EverChanging:
        calls = 0

        def set_tenants(self, user_id: str, tenants: Mapping[str, str] | None) -> dict[str, str] | None:
            self.calls += 1
            _member_of(store, user_id, 1)
            return None

    port = EverChanging()
    with pytest.raises(errors.StudioError) as exc:
        TenantsClaimSync(repo, port).sync("dee")
    assert exc.value.status == 503 and port.calls == MAX_PASSES


def _delivery(body: Any) -> Any:
    message = BusMessage("m1", "domain.member", json.dumps(body).encode(), {"type": str(body.get("type"))})
    return cloudevents.to_cloudevent(cloudevents.pubsub_envelope(message, project="p", subscription="fn-identity_claims"))


def test_handle_follows_member_events_ignores_invitations_and_refuses_a_malformed_one(store: SqliteStore) -> None:
    [tenant_id] = _member_of(store, "eve", 1, Role.ADMIN)
    sync = TenantsClaimSync(MembershipRepo(store), StoreCustomClaims(store))
    event = {"id": "ev_1", "type": "member.role_changed", "tenant_id": tenant_id, "env": "dev",
             "subject": f"tenants/{tenant_id}", "data": {"user_id": "eve", "to": "admin"}}
    assert sync.handle(_delivery(event)) == {tenant_id: "admin"}
    assert sync.handle(_delivery(event)) == {tenant_id: "admin"}  # redelivered: the same truth
    assert sync.handle(_delivery({**event, "type": "member.invited", "data": {}})) is None
    assert StoreCustomClaims(store).claims_of("eve") == {TENANTS_CLAIM: {tenant_id: "admin"}}
    for data in ({}, {"user_id": ""}, {"user_id": 7}, None):
        with pytest.raises(errors.StudioError) as exc:
            sync.handle(_delivery({**event, "data": data}))
        assert exc.value.status == 400

"""A user of more tenants than the ``tenants`` claim can hold still reads every one of them under
infra/firestore.rules: through the claim where it names the tenant, through the membership document
where it does not. On Google's Firestore emulator, with the memberships written by the real code on
the Firestore adapter and the claim computed by the real sync (the budget is what Firebase enforces).

Clients use unsigned (``alg: none``) ID tokens carrying that claim, which the emulator accepts as
``request.auth`` (tests/integration/test_firestore_rules.py covers the rest of the rules).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.adapters.firestore_store import FirestoreStore
from studio.adapters.store_claims import StoreCustomClaims
from studio.identity.claims import TenantsClaimSync
from studio.identity.memberships import MembershipRepo, write_membership
from studio.identity.paths import member as member_path
from studio.kernel.roles import Role
from studio.ports.claims import CLAIMS_BUDGET_BYTES, TENANTS_CLAIM, claims_size
from tests.support.firestore_emulator import FirestoreEmulator, emulator_session, unsigned_id_token

pytestmark = pytest.mark.emulator
PROJECT = "demo-claim-fallback"
RULES = Path(__file__).resolve().parents[2] / "infra" / "firestore.rules"
MESSAGE = "tenants/{t}/envs/dev/threads/th_1/messages/000000000001"
USER, TENANTS = "u_many", 45  # more than 1,000 bytes of claim hold


@pytest.fixture(scope="session")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.fixture(scope="module")
def world(firestore_emulator: FirestoreEmulator) -> Iterator[dict[str, Any]]:
    firestore_emulator.load_rules(PROJECT, RULES)
    firestore_emulator.wipe(PROJECT)
    client = firestore_emulator.client(PROJECT)
    store = FirestoreStore(PROJECT, client=client)
    tenants = [f"t_{i:012d}" for i in range(TENANTS)]
    for i, tenant_id in enumerate(tenants):
        role = Role.OWNER if i % 10 == 0 else Role.MEMBER
        store.run_transaction(lambda tx, t=tenant_id, r=role: write_membership(tx, t, USER, None, r))
        store.put(MESSAGE.format(t=tenant_id), {"seq": 1, "text": f"hello {tenant_id}", "status": "complete"})
    store.put(MESSAGE.format(t="t_stranger0000"), {"seq": 1, "text": "not yours", "status": "complete"})
    claim = TenantsClaimSync(MembershipRepo(store), StoreCustomClaims(store)).sync(USER)
    yield {"store": store, "tenants": tenants, "claim": claim or {}, "http": firestore_emulator.http}
    client.close()


def _read(world: dict[str, Any], tenant_id: str) -> int:
    token = unsigned_id_token(USER, PROJECT, **{TENANTS_CLAIM: world["claim"]})
    url = f"/v1/projects/{PROJECT}/databases/(default)/documents/{MESSAGE.format(t=tenant_id)}"
    response: httpx.Response = world["http"].get(url, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def test_the_claim_holds_only_some_of_the_tenants(world: dict[str, Any]) -> None:
    claim, tenants = world["claim"], world["tenants"]
    assert 0 < len(claim) < len(tenants)
    assert claims_size({TENANTS_CLAIM: claim}) <= CLAIMS_BUDGET_BYTES
    owners = [t for i, t in enumerate(tenants) if i % 10 == 0]
    assert list(claim)[:len(owners)] == owners  # the owner's tenants are the ones kept first


def test_the_user_reads_every_tenant_s_thread_in_the_claim_or_not(world: dict[str, Any]) -> None:
    for tenant_id in world["tenants"]:
        assert _read(world, tenant_id) == 200, tenant_id
    assert _read(world, "t_stranger0000") == 403


def test_beyond_the_claim_the_membership_document_is_what_grants_the_read(world: dict[str, Any]) -> None:
    store: FirestoreStore = world["store"]
    outside = next(t for t in world["tenants"] if t not in world["claim"])
    inside = next(iter(world["claim"]))
    saved = {t: store.get(member_path(t, USER)) for t in (outside, inside)}
    try:
        for tenant_id in saved:
            store.delete(member_path(tenant_id, USER))
        assert _read(world, outside) == 403  # no claim entry, no document: nothing grants it
        assert _read(world, inside) == 200  # the claim alone (until the sync rewrites it)
    finally:  # the module's other tests read the same world, in any order
        for tenant_id, doc in saved.items():
            assert doc is not None
            role = Role(doc.data["role"])
            store.run_transaction(lambda tx, t=tenant_id, r=role: write_membership(tx, t, USER, None, r))

"""The Firebase custom-claims adapter (IdentityToolkitClaims), two ways:

- fast, always on: against a minimal loopback server answering the documented ``accounts:lookup`` and
  ``accounts:update`` JSON (Identity Toolkit is a cloud API: a fake at the edge, kept to the fields the
  adapter reads and writes). It pins the requests and the failure handling;
- slow, opt-in (STUDIO_FIREBASE_EMULATOR=1, tests/support/auth_emulator.py): the real Firebase Auth
  emulator, which stores the claims, refuses more than 1,000 bytes of them and puts them in the ID
  tokens it mints; the membership sync runs on it end to end.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.adapters.firebase_claims import IdentityToolkitClaims
from studio.adapters.sqlite_store import SqliteStore
from studio.identity.claims import TenantsClaimSync, tenants_claim
from studio.identity.memberships import MembershipRepo, write_membership
from studio.kernel import errors
from studio.kernel.roles import Role
from studio.ports.claims import CLAIMS_BUDGET_BYTES, TENANTS_CLAIM, claims_size, serialized
from tests.support.auth_emulator import auth_emulator_session
from tests.support.identity_toolkit_fake import IdentityToolkitFake

PROJECT = "demo-claims"


@pytest.fixture
def accounts() -> Iterator[IdentityToolkitFake]:
    server = IdentityToolkitFake()
    yield server
    server.stop()


def _adapter(server: IdentityToolkitFake) -> IdentityToolkitClaims:
    return IdentityToolkitClaims(PROJECT, endpoint=server.endpoint, credentials_provider=lambda: "tok-1")


def _tenants(count: int) -> dict[str, str]:
    return tenants_claim([{"tenant_id": f"t_{i:012d}", "role": "member"} for i in range(count)])


def test_the_claim_is_merged_into_the_other_claims_and_sent_as_a_json_string(accounts: IdentityToolkitFake) -> None:
    accounts.accounts["u1"] = {"customAttributes": '{"plan":"pro"}'}
    assert _adapter(accounts).set_tenants("u1", {"t_a": "owner"}) == {"t_a": "owner"}
    base = f"/v1/projects/{PROJECT}"
    assert accounts.requests == [
        (f"{base}/accounts:lookup", "Bearer tok-1", {"localId": ["u1"]}),
        (f"{base}/accounts:update", "Bearer tok-1",
         {"localId": "u1", "customAttributes": '{"plan":"pro","tenants":{"t_a":"owner"}}'}),
    ]
    assert _adapter(accounts).set_tenants("u1", {"t_a": "owner"}) == {"t_a": "owner"}
    assert len(accounts.updates()) == 1  # unchanged: nothing written
    assert _adapter(accounts).set_tenants("u1", None) is None
    assert accounts.updates()[-1]["customAttributes"] == '{"plan":"pro"}'
    accounts.accounts["u2"] = {}  # no custom claims yet
    assert _adapter(accounts).set_tenants("u2", None) is None and len(accounts.updates()) == 2
    _adapter(accounts).set_tenants("u2", {"t_b": "viewer"})
    _adapter(accounts).set_tenants("u2", {})
    assert accounts.updates()[-1] == {"localId": "u2", "customAttributes": "{}"}  # what removes them all


def test_the_budget_counts_the_other_claims(accounts: IdentityToolkitFake) -> None:
    accounts.accounts["u1"] = {"customAttributes": serialized({"note": "n" * 500})}
    kept = _adapter(accounts).set_tenants("u1", _tenants(60))
    assert kept is not None and 0 < len(kept) < 30
    written = accounts.updates()[-1]["customAttributes"]
    assert len(written.encode()) <= CLAIMS_BUDGET_BYTES and json.loads(written)["note"] == "n" * 500


def test_a_deleted_account_is_not_an_error(accounts: IdentityToolkitFake) -> None:
    assert _adapter(accounts).set_tenants("ghost", {"t_a": "owner"}) is None
    assert accounts.updates() == []


def test_an_account_deleted_between_lookup_and_update_is_not_an_error(accounts: IdentityToolkitFake) -> None:
    accounts.accounts["u1"] = {}
    accounts.vanish_on_update.add("u1")
    assert _adapter(accounts).set_tenants("u1", {"t_a": "owner"}) is None  # USER_NOT_FOUND: gone, not failed
    assert len(accounts.updates()) == 1


def test_failures_are_503_so_the_event_is_retried(accounts: IdentityToolkitFake) -> None:
    accounts.accounts["u1"] = {"customAttributes": "[1, 2]"}
    with pytest.raises(errors.StudioError) as malformed:
        _adapter(accounts).set_tenants("u1", {"t_a": "owner"})
    assert malformed.value.status == 503 and "customAttributes" in malformed.value.detail
    accounts.accounts["u2"] = {}
    careless = IdentityToolkitClaims(PROJECT, endpoint=accounts.endpoint, credentials_provider=lambda: "t",
                                     budget=5000)  # a budget above Firebase's: the update is refused
    with pytest.raises(errors.StudioError) as too_large:
        careless.set_tenants("u2", _tenants(60))
    assert too_large.value.status == 503 and str(too_large.value.__cause__) == "CLAIMS_TOO_LARGE"  # in the log
    accounts.status = 503
    with pytest.raises(errors.StudioError) as down:
        _adapter(accounts).set_tenants("u1", {"t_a": "owner"})
    assert down.value.status == 503 and "HTTP 503" in down.value.detail
    dead = IdentityToolkitClaims(PROJECT, endpoint="http://127.0.0.1:9", credentials_provider=lambda: "t",
                                 timeout_s=0.5)
    with pytest.raises(errors.StudioError) as unreachable:
        dead.set_tenants("u1", {"t_a": "owner"})
    assert unreachable.value.status == 503
    with pytest.raises(ValueError):
        IdentityToolkitClaims(PROJECT)  # no credentials outside the emulator


# -- the real Firebase Auth emulator (slow, opt-in) ------------------------------------------------


@pytest.fixture
def auth_emulator(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from auth_emulator_session(tmp_path, tmp_path_factory.getbasetemp(), PROJECT)


def _token_claims(id_token: str) -> dict[str, Any]:
    payload = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.mark.slow
def test_on_the_auth_emulator_the_claim_fits_reaches_the_id_token_and_keeps_other_claims(
        auth_emulator: str, tmp_path: Path) -> None:
    base = f"http://{auth_emulator}/identitytoolkit.googleapis.com/v1"

    def call(path: str, body: dict[str, Any], admin: bool = False) -> httpx.Response:
        return httpx.post(f"{base}/{path}", json=body, timeout=10,
                          headers={"Authorization": "Bearer owner"} if admin else {})

    creds = {"email": "claims@example.com", "password": "secret-123", "returnSecureToken": True}
    signed_up = call("accounts:signUp?key=any", creds)
    assert signed_up.status_code == 200, signed_up.text
    uid = signed_up.json()["localId"]
    update = f"projects/{PROJECT}/accounts:update"
    assert call(update, {"localId": uid, "customAttributes": '{"plan":"pro"}'}, admin=True).status_code == 200

    # The budget is Firebase's, not ours: the whole map of 60 tenants is refused.
    too_big = serialized({"plan": "pro", TENANTS_CLAIM: _tenants(60)})
    refused = call(update, {"localId": uid, "customAttributes": too_big}, admin=True)
    assert refused.status_code == 400 and "CLAIMS_TOO_LARGE" in refused.text, refused.text

    # The membership sync, end to end: memberships in the store -> the adapter -> the account.
    store = SqliteStore(tmp_path / "store.db")
    for tenant_id in _tenants(60):
        store.run_transaction(lambda tx, t=tenant_id: write_membership(tx, t, uid, creds["email"], Role.MEMBER))
    sync = TenantsClaimSync(MembershipRepo(store), IdentityToolkitClaims.for_emulator(PROJECT, auth_emulator))
    kept = sync.sync(uid)
    assert kept is not None and 20 < len(kept) < 60 and list(kept) == list(_tenants(60))[:len(kept)]

    token = call("accounts:signInWithPassword?key=any", creds).json()["idToken"]
    claims = _token_claims(token)
    assert claims[TENANTS_CLAIM] == kept and claims["plan"] == "pro"
    assert claims_size({"plan": "pro", TENANTS_CLAIM: kept}) <= CLAIMS_BUDGET_BYTES

    adapter = IdentityToolkitClaims.for_emulator(PROJECT, auth_emulator)
    assert adapter.set_tenants(uid, None) is None
    assert adapter.claims_of(uid) == {"plan": "pro"}
    assert call(f"projects/{PROJECT}/accounts:delete", {"localId": uid}, admin=True).status_code == 200
    assert adapter.set_tenants(uid, {"t_a": "owner"}) is None  # deleted: nothing to write, no error

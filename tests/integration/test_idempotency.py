"""Idempotency-Key (AIP-155): replay, reuse with another body, and a key in flight."""
from __future__ import annotations

import threading
import uuid

import httpx

from tests.support.api import PASSWORD, User


def test_same_key_same_body_replays_the_first_response(client: httpx.Client, owner: User) -> None:
    key = uuid.uuid4().hex
    first = client.post("/auth/bootstrap", json={"tenant_name": "Once"}, headers={**owner.auth, "Idempotency-Key": key})
    again = client.post("/auth/bootstrap", json={"tenant_name": "Once"}, headers={**owner.auth, "Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    me = client.get("/auth/me", headers=owner.auth).json()
    assert [m["tenant_id"] for m in me["memberships"]].count(first.json()["tenant_id"]) == 1
    assert len(me["memberships"]) == 1  # one tenant, not two


def test_same_key_other_body_is_422(client: httpx.Client, owner: User) -> None:
    key = uuid.uuid4().hex
    client.post("/auth/bootstrap", json={"tenant_name": "A"}, headers={**owner.auth, "Idempotency-Key": key})
    other = client.post("/auth/bootstrap", json={"tenant_name": "B"}, headers={**owner.auth, "Idempotency-Key": key})
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_keys_are_scoped_per_caller(client: httpx.Client, owner: User) -> None:
    from tests.support.api import new_user

    someone = new_user(client)
    key = uuid.uuid4().hex
    a = client.post("/auth/bootstrap", json={"tenant_name": "A"}, headers={**owner.auth, "Idempotency-Key": key})
    b = client.post("/auth/bootstrap", json={"tenant_name": "B"}, headers={**someone.auth, "Idempotency-Key": key})
    assert a.status_code == b.status_code == 201 and a.json() != b.json()


def test_key_in_flight_is_409(platform: object) -> None:
    # Sign-up hashes with argon2 (tens of ms): long enough for the twin to find the key held.
    key = uuid.uuid4().hex
    body = {"email": f"race-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
    results: list[httpx.Response] = []
    gate = threading.Barrier(6)

    def post() -> None:
        with httpx.Client(base_url=platform.base_url, timeout=30) as c:  # type: ignore[attr-defined]
            gate.wait()
            results.append(c.post("/auth/signup", json=body, headers={"Idempotency-Key": key}))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) >= 1
    in_use = [r for r in results if r.status_code == 409]
    assert in_use, codes
    assert all(r.json()["code"] == "IDEMPOTENCY_KEY_IN_USE" for r in in_use)
    assert set(codes) <= {201, 409}
    created = {r.json()["user_id"] for r in results if r.status_code == 201}
    assert len(created) == 1  # replays, never a second account


def test_errors_are_replayed_too(client: httpx.Client) -> None:
    key = uuid.uuid4().hex
    body = {"email": "weak-replay@example.com", "password": "weak"}
    first = client.post("/auth/signup", json=body, headers={"Idempotency-Key": key})
    second = client.post("/auth/signup", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 422
    assert second.headers["content-type"] == "application/problem+json"
    assert second.headers.get("idempotent-replayed") == "true"


def test_a_command_with_an_idempotency_key_too_is_applied_once(client: httpx.Client, owner: User) -> None:
    """The command_id and the Idempotency-Key each hold a record; the key's bookkeeping for the one
    must not end up in the other's journal (docs/decisions/0020)."""
    from tests.support.api import new_tenant

    tenant = new_tenant(client, owner, "Keyed")
    body = {"command_id": f"cmd-{uuid.uuid4().hex}", "type": "tenant.rename",
            "target": {"kind": "tenant", "id": tenant}, "base_rev": 1, "payload": {"name": "Keyed twice"}}
    headers = {**owner.in_tenant(tenant), "Idempotency-Key": uuid.uuid4().hex}
    first = client.post("/commands", json=body, headers=headers)
    assert first.status_code == 200 and first.json()["new_rev"] == 2, first.text
    again = client.post("/commands", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    by_command_id = client.post("/commands", json=body, headers=owner.in_tenant(tenant))
    assert by_command_id.json() == first.json()
    assert client.get(f"/tenants/{tenant}", headers=owner.in_tenant(tenant)).json()["rev"] == 2


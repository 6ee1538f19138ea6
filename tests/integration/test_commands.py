"""POST /commands: same result and the same checks as the direct routes."""
from __future__ import annotations

import uuid

import httpx

from tests.support.api import User, add_member, new_user


def _cmd(type_: str, kind: str, target: str, base_rev: int, payload: dict, command_id: str | None = None) -> dict:
    return {"command_id": command_id or f"cmd-{uuid.uuid4().hex}", "type": type_,
            "target": {"kind": kind, "id": target}, "base_rev": base_rev, "payload": payload}


def test_types_are_listed_with_json_schemas(client: httpx.Client, owner: User, tenant: str) -> None:
    types = client.get("/commands/types", headers=owner.in_tenant(tenant)).json()["types"]
    by_name = {t["type"]: t for t in types}
    assert {"tenant.rename", "membership.set_role"} <= set(by_name)
    assert by_name["tenant.rename"]["payload_schema"]["properties"]["name"]["type"] == "string"


def test_rename_matches_the_direct_route(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    r = client.post("/commands", json=_cmd("tenant.rename", "tenant", tenant, 1, {"name": "Via command"}), headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "applied" and body["new_rev"] == 2
    assert body["target"] == {"kind": "tenant", "id": tenant}
    assert [e["type"] for e in body["events"]] == ["tenant.renamed"]
    direct = client.get(f"/tenants/{tenant}", headers=h).json()
    assert direct["name"] == "Via command" and direct["rev"] == 2


def test_stale_base_rev_conflicts(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    client.post("/commands", json=_cmd("tenant.rename", "tenant", tenant, 1, {"name": "x"}), headers=h)
    stale = client.post("/commands", json=_cmd("tenant.rename", "tenant", tenant, 1, {"name": "y"}), headers=h)
    assert stale.status_code == 409 and stale.json()["current_rev"] == 2


def test_command_id_replays_and_refuses_reuse(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    cmd = _cmd("tenant.rename", "tenant", tenant, 1, {"name": "once"})
    first = client.post("/commands", json=cmd, headers=h)
    second = client.post("/commands", json=cmd, headers=h)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json() and second.headers.get("idempotent-replayed") == "true"
    assert client.get(f"/tenants/{tenant}", headers=h).json()["rev"] == 2
    reused = client.post("/commands", json={**cmd, "payload": {"name": "other"}}, headers=h)
    assert reused.status_code == 422 and reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_same_role_checks_as_direct_routes(client: httpx.Client, owner: User, tenant: str) -> None:
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    r = client.post("/commands", json=_cmd("tenant.rename", "tenant", tenant, 1, {"name": "no"}),
                    headers=viewer.in_tenant(tenant))
    assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT"
    other = client.post("/auth/bootstrap", json={"tenant_name": "Other"}, headers=owner.auth).json()["tenant_id"]
    cross = client.post("/commands", json=_cmd("tenant.rename", "tenant", other, 1, {"name": "no"}),
                        headers=owner.in_tenant(tenant))
    assert cross.status_code == 400 and cross.json()["code"] == "TENANT_MISMATCH"


def test_set_role_and_last_owner(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    member = new_user(client, "member")
    rev = add_member(client, owner, tenant, member, "member")["rev"]
    ok = client.post("/commands", json=_cmd("membership.set_role", "membership", member.user_id, rev, {"role": "admin"}),
                     headers=h)
    assert ok.status_code == 200 and ok.json()["new_rev"] == rev + 1
    me_rev = next(m["rev"] for m in client.get(f"/tenants/{tenant}/members", headers=h).json()["members"]
                  if m["user_id"] == owner.user_id)
    last = client.post("/commands", json=_cmd("membership.set_role", "membership", owner.user_id, me_rev,
                                              {"role": "viewer"}), headers=h)
    assert last.status_code == 409 and last.json()["code"] == "LAST_OWNER"


def test_bad_envelopes_are_problems(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    unknown = client.post("/commands", json=_cmd("tenant.explode", "tenant", tenant, 1, {}), headers=h)
    assert unknown.status_code == 422 and unknown.json()["code"] == "UNKNOWN_COMMAND_TYPE"
    bad_payload = client.post("/commands", json=_cmd("tenant.rename", "tenant", tenant, 1, {"name": ""}), headers=h)
    assert bad_payload.status_code == 400 and bad_payload.json()["errors"][0]["field"].startswith("body.payload")
    wrong_kind = client.post("/commands", json=_cmd("tenant.rename", "membership", tenant, 1, {"name": "x"}), headers=h)
    assert wrong_kind.status_code == 400

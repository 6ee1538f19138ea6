"""Governance over real HTTP: licences, kill switches, strategy locks, corridors and budgets; the
revision rules, tenant isolation, viewers refused, hostile input answered with problem+json."""
from __future__ import annotations

import httpx
import pytest

from studio.governance.services import governance_services
from studio.kernel.errors import StudioError
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.governance import later, system_headers, tool_request
from tests.support.platform import RunningPlatform


def _problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code, r.text
    return dict(r.json())


@pytest.fixture()
def viewer(client: httpx.Client, owner: User, tenant: str) -> User:
    user = new_user(client, "viewer")
    add_member(client, owner, tenant, user, "viewer")
    return user


# -- licences --------------------------------------------------------------------------------
def test_licence_issue_check_revoke(client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    r = client.post("/firearms/licences", headers=h, json={
        "subject_type": "agent", "subject_id": "muse", "tools": ["chat.delete_thread"], "expires_at": later()})
    assert r.status_code == 201, r.text
    lic = r.json()
    assert (lic["status"], lic["rev"], r.headers["etag"]) == ("active", 1, '"1"')
    ok = client.get("/firearms/licences/check/agent/muse", params={"tool": "chat.delete_thread", "danger": "high"},
                    headers=h).json()
    assert ok["licensed"] is True and ok["licence"]["id"] == lic["id"]
    other = client.get("/firearms/licences/check/agent/muse", params={"tool": "tenant.rename", "danger": "high"},
                       headers=h).json()
    assert other["licensed"] is False
    gates = governance_services(platform.deps).gates
    gates.check_licence(tool_request(tenant, "chat.delete_thread", danger="high", kind="agent", subject_id="muse"))
    with pytest.raises(StudioError) as refused:
        gates.check_licence(tool_request(tenant, "tenant.rename", danger="high", kind="agent", subject_id="muse"))
    assert refused.value.code.code == "LICENCE_REQUIRED"
    gates.check_licence(tool_request(tenant, "tenant.rename", danger="low", kind="agent", subject_id="muse"))

    assert client.get("/firearms/licences", headers=h, params={"subject_type": "agent", "subject_id": "muse"}
                      ).json()["licences"][0]["id"] == lic["id"]
    path = f"/firearms/licences/{lic['id']}/revoke"
    _problem(client.post(path, headers=h, json={}), 428, "PRECONDITION_REQUIRED")
    _problem(client.post(path, headers=h, json={"base_rev": 7}), 409, "REVISION_CONFLICT")
    r = client.post(path, headers={**h, "If-Match": '"1"'}, json={})
    assert r.status_code == 200 and r.json()["status"] == "revoked", r.text
    _problem(client.post(path, headers={**h, "If-Match": '"2"'}, json={}), 409, "LICENCE_NOT_ACTIVE")
    with pytest.raises(StudioError):
        gates.check_licence(tool_request(tenant, "chat.delete_thread", danger="high", kind="agent", subject_id="muse"))


def test_a_danger_level_licence_covers_lower_levels_and_expiry_ends_it(client: httpx.Client, owner: User,
                                                                       tenant: str) -> None:
    h = owner.in_tenant(tenant)
    client.post("/firearms/licences", headers=h, json={"subject_type": "user", "subject_id": owner.user_id,
                                                       "danger": "high", "expires_at": later()})
    check = f"/firearms/licences/check/user/{owner.user_id}"
    assert client.get(check, params={"danger": "low"}, headers=h).json()["licensed"] is True
    assert client.get(check, params={"danger": "high"}, headers=h).json()["licensed"] is True
    assert client.get(check, params={"danger": "critical"}, headers=h).json()["licensed"] is False
    client.post("/firearms/licences", headers=h, json={"subject_type": "api_client", "subject_id": "ci-bot",
                                                       "danger": "critical", "expires_at": later(-1)})
    expired = client.get("/firearms/licences/check/api_client/ci-bot", params={"danger": "low"}, headers=h).json()
    assert expired["licensed"] is False


def test_licence_hostile_input(client: httpx.Client, owner: User, tenant: str, viewer: User) -> None:
    h = owner.in_tenant(tenant)
    base = {"subject_type": "agent", "subject_id": "muse", "tools": ["x.y"], "expires_at": later()}
    _problem(client.post("/firearms/licences", headers=viewer.in_tenant(tenant), json=base), 403, "ROLE_INSUFFICIENT")
    for bad in ({**base, "tools": [], "danger": None}, {**base, "expires_at": "2030-01-01T00:00:00"},
                {**base, "subject_type": "robot"}, {**base, "tools": ["a b"]}, {**base, "tools": ["x"] * 51},
                {**base, "subject_id": "../../etc"}, {**base, "extra": 1}, {**base, "expires_at": "9999-12-31T23:59:59-23:59"}):
        r = client.post("/firearms/licences", headers=h, json=bad)
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", (bad, r.text)
    _problem(client.get("/firearms/licences/check/robot/x", headers=h), 400, "VALIDATION_FAILED")
    _problem(client.post("/firearms/licences/lic_nope/revoke", headers={**h, "If-Match": '"1"'}, json={}),
             404, "NOT_FOUND")


def test_licences_are_the_tenants_own(client: httpx.Client, owner: User, tenant: str) -> None:
    lic = client.post("/firearms/licences", headers=owner.in_tenant(tenant), json={
        "subject_type": "agent", "subject_id": "muse", "danger": "critical", "expires_at": later()}).json()
    stranger = new_user(client, "stranger")
    theirs = new_tenant(client, stranger, "Theirs")
    hs = stranger.in_tenant(theirs)
    assert client.get("/firearms/licences", headers=hs).json()["licences"] == []
    assert client.get("/firearms/licences/check/agent/muse", params={"danger": "low"}, headers=hs).json()["licensed"] is False
    _problem(client.post(f"/firearms/licences/{lic['id']}/revoke", headers={**hs, "If-Match": '"1"'}, json={}),
             404, "NOT_FOUND")
    assert client.get("/firearms/licences", headers=owner.in_tenant(tenant, "prod")).json()["licences"] == []


# -- kill switches ---------------------------------------------------------------------------
def test_kill_switch_lifecycle_and_gate(client: httpx.Client, owner: User, tenant: str, viewer: User,
                                        platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    gates = governance_services(platform.deps).gates
    req = tool_request(tenant, "chat.post_message")
    gates.check_kill_switch(req)
    _problem(client.post("/kill-switches", headers=viewer.in_tenant(tenant),
                         json={"target_kind": "tool", "target": "chat.post_message", "reason": "x"}),
             403, "ROLE_INSUFFICIENT")
    r = client.post("/kill-switches", headers=h, json={"target_kind": "tool", "target": "chat.post_message",
                                                       "reason": "spamming the threads"})
    assert r.status_code == 201, r.text
    switch = r.json()
    with pytest.raises(StudioError) as blocked:  # this instance dropped its cache: effective at once
        gates.check_kill_switch(req)
    assert blocked.value.code.code == "KILL_SWITCH_ACTIVE" and "spamming the threads" in blocked.value.detail
    gates.check_kill_switch(tool_request(tenant, "chat.delete_thread"))
    path = f"/kill-switches/{switch['id']}"
    _problem(client.patch(path, headers=h, json={"active": False}), 428, "PRECONDITION_REQUIRED")
    _problem(client.patch(path, headers={**h, "If-Match": '"9"'}, json={"active": False}), 412, "REVISION_CONFLICT")
    r = client.patch(path, headers={**h, "If-Match": '"1"'}, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["rev"] == 2
    gates.check_kill_switch(req)
    listed = client.get("/kill-switches", headers=viewer.in_tenant(tenant)).json()
    assert [s["id"] for s in listed["switches"]] == [switch["id"]]
    assert client.delete(path, headers=h, params={"base_rev": 2}).status_code == 204
    assert client.get("/kill-switches", headers=h).json()["switches"] == []
    for bad in ({"target_kind": "planet", "target": "x", "reason": "r"}, {"target_kind": "tool", "target": "", "reason": "r"},
                {"target_kind": "tool", "target": "x", "reason": "r" * 501}, {"target_kind": "tool", "target": "x"}):
        assert client.post("/kill-switches", headers=h, json=bad).status_code == 400


def test_wildcard_and_action_switches(client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    gates = governance_services(platform.deps).gates
    client.post("/kill-switches", headers=h, json={"target_kind": "action", "target": "tool.invoke", "reason": "freeze"})
    with pytest.raises(StudioError):
        gates.check_kill_switch(tool_request(tenant, "anything.at_all"))
    other_env = tool_request(tenant)
    gates.check_kill_switch(type(other_env)(**{**other_env.__dict__, "env": "prod"}))  # only dev is frozen


def test_platform_switches_are_for_system_identities(client: httpx.Client, owner: User, tenant: str,
                                                     platform: RunningPlatform) -> None:
    body = {"target_kind": "model", "target": "gpt-doom-9", "reason": "withdrawn by the vendor", "platform": True}
    _problem(client.post("/kill-switches", headers=owner.in_tenant(tenant), json=body), 403, "SYSTEM_IDENTITY_REQUIRED")
    sys_h = system_headers(platform, tenant)
    r = client.post("/kill-switches", headers=sys_h, json=body)
    assert r.status_code == 201 and r.json()["scope"] == "platform", r.text
    switch = r.json()
    try:
        other = new_tenant(client, owner, "Another")
        listed = client.get("/kill-switches", headers=owner.in_tenant(other)).json()
        assert switch["id"] in [s["id"] for s in listed["platform"]]
        req = tool_request(other, provider="openai-compatible")
        with pytest.raises(StudioError) as blocked:
            governance_services(platform.deps).gates.check_kill_switch(
                type(req)(**{**req.__dict__, "model": "gpt-doom-9"}))
        assert "platform-wide" in blocked.value.detail
        _problem(client.delete(f"/kill-switches/platform/{switch['id']}", headers=owner.in_tenant(tenant),
                               params={"base_rev": 1}), 403, "SYSTEM_IDENTITY_REQUIRED")
    finally:
        assert client.delete(f"/kill-switches/platform/{switch['id']}", headers=sys_h,
                              params={"base_rev": 1}).status_code == 204


# -- strategy locks and corridors ------------------------------------------------------------
def test_a_locked_scope_refuses_direct_changes(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    admin = new_user(client, "admin")
    add_member(client, owner, tenant, admin, "admin")
    ha = admin.in_tenant(tenant)
    corridor = {"floor": 0.2, "ceiling": 0.9, "default": 0.5, "base_rev": 0}
    assert client.put("/temperature/corridors/tenant", headers=ha, json=corridor).status_code == 200
    r = client.put("/strategy-locks/temperature", headers=ha, json={"locked": True, "reason": "brand voice review",
                                                                     "base_rev": 0})
    assert r.status_code == 200 and r.json()["locked"] is True, r.text
    p = _problem(client.put("/temperature/corridors/tenant", headers=ha, json={**corridor, "base_rev": 1}),
                 423, "STRATEGY_LOCKED")
    assert p["questions"] == "/three-wise/questions" and p["scope"] == "temperature"
    _problem(client.put("/strategy-locks/temperature", headers=ha, json={"locked": False, "base_rev": 1}),
             403, "ROLE_INSUFFICIENT")  # an admin cannot lift the lock that binds them
    assert client.put("/strategy-locks/temperature", headers=h, json={"locked": False, "base_rev": 1}).status_code == 200
    assert client.put("/temperature/corridors/tenant", headers=ha, json={**corridor, "base_rev": 1}).status_code == 200
    _problem(client.put("/strategy-locks/Bad Scope", headers=h, json={"locked": True, "base_rev": 0}),
             400, "VALIDATION_FAILED")
    locks = client.get("/strategy-locks", headers=h).json()
    assert locks["locks"][0]["scope"] == "temperature" and "budgets" in locks["known_scopes"]


def test_corridors_clamp(client: httpx.Client, owner: User, tenant: str, viewer: User, platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    eff = "/temperature/effective"
    assert client.get(eff, headers=h).json()["temperature"] == 0.7  # the platform's default
    assert client.put("/temperature/corridors/tenant", headers=h,
                      json={"floor": 0.2, "ceiling": 1.0, "default": 0.6, "base_rev": 0}).status_code == 200
    assert client.put("/temperature/corridors/agents/muse", headers=h,
                      json={"floor": 0.0, "ceiling": 1.5, "default": 0.3, "base_rev": 0}).status_code == 200
    assert client.get(eff, params={"agent_id": "muse"}, headers=h).json()["temperature"] == 0.3
    assert client.get(eff, params={"agent_id": "muse", "requested": 1.4}, headers=h).json()["temperature"] == 1.0
    assert client.get(eff, params={"agent_id": "muse", "requested": 0.05}, headers=h).json()["temperature"] == 0.2
    assert client.get(eff, params={"requested": 9}, headers=viewer.in_tenant(tenant)).json()["temperature"] == 1.0
    assert governance_services(platform.deps).corridors.clamp(tenant, "dev", "other", None) == 0.6
    _problem(client.put("/temperature/corridors/tenant", headers=h,
                        json={"floor": 0.9, "ceiling": 0.1, "default": 0.5, "base_rev": 1}), 422, "CORRIDOR_INVALID")
    _problem(client.put("/temperature/corridors/tenant", headers=viewer.in_tenant(tenant),
                        json={"floor": 0.1, "ceiling": 0.9, "default": 0.5, "base_rev": 1}), 403, "ROLE_INSUFFICIENT")
    for bad in ('{"floor": NaN, "ceiling": 1, "default": 0.5, "base_rev": 1}',
                '{"floor": 0, "ceiling": 1e400, "default": 0.5, "base_rev": 1}',
                '{"floor": 0, "ceiling": 3, "default": 0.5, "base_rev": 1}'):
        r = client.put("/temperature/corridors/tenant", headers={**h, "Content-Type": "application/json"}, content=bad)
        assert r.status_code == 400, (bad, r.text)
    _problem(client.put("/temperature/corridors/agents/BAD!", headers=h,
                        json={"floor": 0, "ceiling": 1, "default": 0.5, "base_rev": 0}), 400, "VALIDATION_FAILED")
    assert client.delete("/temperature/corridors/agents/muse", headers={**h, "If-Match": '"1"'}).status_code == 204
    assert [c["id"] for c in client.get("/temperature/corridors", headers=h).json()["corridors"]] == ["tenant"]


# -- budgets ---------------------------------------------------------------------------------
def test_budget_reserve_settle_usage_and_summary(client: httpx.Client, owner: User, tenant: str, viewer: User,
                                                 platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    _problem(client.put("/budget/budgets/bud_tools", headers=viewer.in_tenant(tenant),
                        json={"provider": "tools", "period": "day", "soft_usd": 1, "hard_usd": 2, "base_rev": 0}),
             403, "ROLE_INSUFFICIENT")
    _problem(client.put("/budget/budgets/bud_tools", headers=h,
                        json={"provider": "tools", "period": "day", "soft_usd": 3, "hard_usd": 2, "base_rev": 0}),
             400, "VALIDATION_FAILED")
    r = client.put("/budget/budgets/bud_tools", headers=h,
                   json={"provider": "tools", "period": "day", "soft_usd": 1.0, "hard_usd": 2.0, "base_rev": 0})
    assert r.status_code == 200 and r.json()["rev"] == 1, r.text
    gates = governance_services(platform.deps).gates
    first = gates.reserve(tool_request(tenant, estimate_usd=1.5))
    listed = client.get("/budget/budgets", headers=h).json()["budgets"][0]
    assert (listed["reserved_usd"], listed["spent_usd"]) == (1.5, 0.0)
    with pytest.raises(StudioError) as over:
        gates.reserve(tool_request(tenant, estimate_usd=0.6))
    assert over.value.code.code == "BUDGET_EXCEEDED"
    gates.settle(first, 1.2, 300)
    gates.settle(first, 1.2, 300)  # a retried settle counts once
    listed = client.get("/budget/budgets", headers=h).json()["budgets"][0]
    assert (listed["reserved_usd"], listed["spent_usd"]) == (0.0, 1.2)
    held = gates.reserve(tool_request(tenant, estimate_usd=0.5))
    gates.release(held)
    records = client.get("/budget/usage", headers=viewer.in_tenant(tenant)).json()["records"]
    assert [(u["tool"], u["cost_usd"], u["tokens"]) for u in records] == [("chat.post_message", 1.2, 300)]
    summary = client.get("/budget/usage/summary", headers=h).json()
    assert (summary["total_usd"], summary["total_tokens"]) == (1.2, 300)
    assert summary["by_provider_model"][0]["provider"] == "tools"
    assert client.get("/budget/prices", headers=h).json()["prices"]
    _problem(client.put("/budget/budgets/nope", headers=h, json={"provider": "*", "period": "day", "soft_usd": 1,
                                                                 "hard_usd": 2, "base_rev": 0}), 400, "VALIDATION_FAILED")
    _problem(client.get("/budget/usage/summary", headers=h, params={"since": "yesterday"}), 400, "VALIDATION_FAILED")
    assert client.delete("/budget/budgets/bud_tools", headers={**h, "If-Match": '"1"'}).status_code == 204
    assert client.get("/budget/budgets", headers=h).json()["budgets"] == []


def test_another_tenants_ids_are_not_found(client: httpx.Client, owner: User, tenant: str) -> None:
    """Ids of one tenant's switches, questions and budgets mean nothing in another tenant (or env)."""
    h = owner.in_tenant(tenant)
    switch = client.post("/kill-switches", headers=h, json={"target_kind": "agent", "target": "muse",
                                                            "reason": "mine"}).json()
    client.put("/budget/budgets/bud_mine", headers=h, json={"provider": "*", "period": "day", "soft_usd": 1,
                                                            "hard_usd": 2, "base_rev": 0})
    q = client.post("/three-wise/questions", headers=h, json={"command": {
        "command_id": "cmd-isolation-1", "type": "governance.lock.set", "target": {"kind": "strategy_lock", "id": "tools"},
        "base_rev": 0, "payload": {"locked": True}}}).json()
    stranger = new_user(client, "stranger")
    theirs = new_tenant(client, stranger, "Theirs")
    for hs in (stranger.in_tenant(theirs), owner.in_tenant(tenant, "prod")):
        _problem(client.patch(f"/kill-switches/{switch['id']}", headers={**hs, "If-Match": '"1"'}, json={"active": False}),
                 404, "NOT_FOUND")
        _problem(client.delete(f"/kill-switches/{switch['id']}", headers={**hs, "If-Match": '"1"'}), 404, "NOT_FOUND")
        _problem(client.get(f"/three-wise/questions/{q['id']}", headers=hs), 404, "NOT_FOUND")
        _problem(client.post(f"/three-wise/questions/{q['id']}/votes", headers=hs, json={"verdict": "approve"}),
                 404, "NOT_FOUND")
        # A PUT at base_rev 1 where the budget does not exist is a conflict at rev 0, never a write to ours.
        _problem(client.put("/budget/budgets/bud_mine", headers=hs, json={
            "provider": "*", "period": "day", "soft_usd": 1, "hard_usd": 9, "base_rev": 1}), 409, "REVISION_CONFLICT")
        assert client.get("/kill-switches", headers=hs).json()["switches"] == []
        assert client.get("/budget/budgets", headers=hs).json()["budgets"] == []
        assert client.get("/three-wise/questions", headers=hs).json()["questions"] == []
    assert client.get("/budget/budgets", headers=h).json()["budgets"][0]["hard_usd"] == 2
    assert client.get(f"/three-wise/questions/{q['id']}", headers=h).json()["status"] == "open"

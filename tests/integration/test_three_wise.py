"""Three-wise review over real HTTP: a change to a locked scope goes from proposal to applied
command after three distinct admins approve; one whose target moved on fails honestly."""
from __future__ import annotations

import uuid

import httpx

from tests.support.api import User
from tests.support.bus_tap import EventTap
from tests.support.governance import admins
from tests.support.platform import RunningPlatform


def _command(kind: str, target_kind: str, target_id: str, base_rev: int, payload: dict) -> dict:
    return {"command_id": f"cmd-{uuid.uuid4().hex}", "type": kind, "target": {"kind": target_kind, "id": target_id},
            "base_rev": base_rev, "payload": payload}


def test_proposal_to_applied_command(client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    proposer, a1, a2, a3 = admins(client, owner, tenant, 4)
    h = owner.in_tenant(tenant)
    assert client.put("/strategy-locks/budgets", headers=h, json={"locked": True, "base_rev": 0}).status_code == 200
    budget = {"provider": "*", "period": "month", "soft_usd": 5.0, "hard_usd": 10.0}
    direct = client.put("/budget/budgets/bud_main", headers=proposer.in_tenant(tenant), json={**budget, "base_rev": 0})
    assert direct.status_code == 423 and direct.json()["questions"] == "/three-wise/questions"
    tap = EventTap(platform, "domain.governance")
    r = client.post("/three-wise/questions", headers=proposer.in_tenant(tenant), json={
        "command": _command("governance.budget.set", "budget", "bud_main", 0, budget), "rationale": "Q4 spend cap"})
    assert r.status_code == 201, r.text
    q = r.json()
    assert (q["status"], q["required"], q["proposer"]) == ("open", 3, proposer.user_id)
    votes = f"/three-wise/questions/{q['id']}/votes"
    own = client.post(votes, headers=proposer.in_tenant(tenant), json={"verdict": "approve"})
    assert own.status_code == 403 and own.json()["code"] == "VOTE_NOT_ALLOWED"
    assert client.post(votes, headers=a1.in_tenant(tenant), json={"verdict": "approve"}).json()["status"] == "open"
    twice = client.post(votes, headers=a1.in_tenant(tenant), json={"verdict": "approve"})
    assert twice.status_code == 403 and twice.json()["code"] == "VOTE_NOT_ALLOWED"
    assert client.post(votes, headers=a2.in_tenant(tenant), json={"verdict": "approve", "comment": "ok"}
                       ).json()["status"] == "open"
    assert client.get("/budget/budgets", headers=h).json()["budgets"] == []  # nothing applied before the third
    done = client.post(votes, headers=a3.in_tenant(tenant), json={"verdict": "approve"}).json()
    assert done["status"] == "applied", done
    assert done["result"]["new_rev"] == 1
    assert [v["by"] for v in done["votes"]] == [a1.user_id, a2.user_id, a3.user_id]
    assert [e["what"] for e in done["history"]] == ["proposed", "voted approve", "voted approve", "voted approve", "applied"]
    (applied,) = client.get("/budget/budgets", headers=h).json()["budgets"]
    assert (applied["id"], applied["hard_usd"], applied["rev"]) == ("bud_main", 10.0, 1)
    late = client.post(votes, headers=owner.in_tenant(tenant), json={"verdict": "approve"})
    assert late.status_code == 409 and late.json()["code"] == "QUESTION_NOT_OPEN"
    kinds = [e["type"] for e in tap.events(tenant)]
    assert kinds.count("governance.question_voted") == 3 and "governance.budget_set" in kinds
    assert kinds[-1] == "governance.question_decided"
    assert client.get("/three-wise/questions", headers=h, params={"status": "applied"}).json()["questions"][0]["id"] == q["id"]


def test_a_question_whose_target_moved_fails_honestly(client: httpx.Client, owner: User, tenant: str) -> None:
    proposer, a1, a2 = admins(client, owner, tenant, 3)
    h = owner.in_tenant(tenant)
    corridor = {"floor": 0.1, "ceiling": 0.9, "default": 0.4}
    q = client.post("/three-wise/questions", headers=proposer.in_tenant(tenant), json={
        "command": _command("governance.corridor.set", "temperature_corridor", "tenant", 0, corridor),
        "required": 2}).json()
    # Meanwhile the owner sets the corridor directly: the question's base_rev 0 is now stale.
    assert client.put("/temperature/corridors/tenant", headers=h,
                      json={"floor": 0.0, "ceiling": 1.0, "default": 0.7, "base_rev": 0}).status_code == 200
    votes = f"/three-wise/questions/{q['id']}/votes"
    client.post(votes, headers=a1.in_tenant(tenant), json={"verdict": "approve"})
    failed = client.post(votes, headers=a2.in_tenant(tenant), json={"verdict": "approve"}).json()
    assert failed["status"] == "failed", failed
    assert failed["result"]["code"] == "REVISION_CONFLICT" and failed["result"]["current_rev"] == 1
    assert "rev 1" in failed["reason"] and failed["history"][-1]["what"].startswith("failed:")
    (kept,) = client.get("/temperature/corridors", headers=h).json()["corridors"]
    assert (kept["default"], kept["rev"]) == (0.7, 1)  # the reviewed change never landed over the newer one


def test_questions_carry_any_domains_command_and_can_be_rejected(client: httpx.Client, owner: User, tenant: str) -> None:
    a1, a2 = admins(client, owner, tenant, 2)
    h = owner.in_tenant(tenant)
    rev = client.get(f"/tenants/{tenant}", headers=h).json()["rev"]
    q = client.post("/three-wise/questions", headers=h, json={
        "command": _command("tenant.rename", "tenant", tenant, rev, {"name": "Reviewed Name"}), "required": 2}).json()
    client.post(f"/three-wise/questions/{q['id']}/votes", headers=a1.in_tenant(tenant), json={"verdict": "approve"})
    assert client.post(f"/three-wise/questions/{q['id']}/votes", headers=a2.in_tenant(tenant),
                       json={"verdict": "approve"}).json()["status"] == "applied"
    assert client.get(f"/tenants/{tenant}", headers=h).json()["name"] == "Reviewed Name"
    r = client.post("/three-wise/questions", headers=h, json={
        "command": _command("tenant.rename", "tenant", tenant, rev + 1, {"name": "Nope"}), "required": 2}).json()
    for admin in (a1, a2):
        last = client.post(f"/three-wise/questions/{r['id']}/votes", headers=admin.in_tenant(tenant),
                           json={"verdict": "reject"}).json()
    assert last["status"] == "rejected"
    assert client.get(f"/tenants/{tenant}", headers=h).json()["name"] == "Reviewed Name"


def test_question_hostile_input(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    good = _command("governance.lock.set", "strategy_lock", "budgets", 0, {"locked": True})
    for body, status, code in (
        ({"command": {**good, "type": "no.such"}}, 422, "UNKNOWN_COMMAND_TYPE"),
        ({"command": {**good, "target": {"kind": "budget", "id": "x"}}}, 400, "VALIDATION_FAILED"),
        ({"command": {**good, "payload": {"locked": "maybe"}}}, 400, "VALIDATION_FAILED"),
        ({"command": good, "required": 0}, 400, "VALIDATION_FAILED"),
        ({"command": good, "required": 2**60}, 400, "VALIDATION_FAILED"),
        ({"command": {**good, "base_rev": -1}}, 400, "VALIDATION_FAILED"),
    ):
        r = client.post("/three-wise/questions", headers=h, json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    r = client.post("/three-wise/questions/q_nope/votes", headers=h, json={"verdict": "approve"})
    assert r.status_code == 404
    r = client.post("/three-wise/questions/q_nope/votes", headers=h, json={"verdict": "maybe"})
    assert r.status_code == 400


def test_two_last_votes_at_once_apply_the_command_once(client: httpx.Client, owner: User, tenant: str,
                                                       platform: RunningPlatform) -> None:
    import threading

    a1, a2, a3 = admins(client, owner, tenant, 3)
    q = client.post("/three-wise/questions", headers=owner.in_tenant(tenant), json={
        "command": _command("governance.budget.set", "budget", "bud_race", 0,
                            {"provider": "*", "period": "day", "soft_usd": 1, "hard_usd": 2}), "required": 2}).json()
    client.post(f"/three-wise/questions/{q['id']}/votes", headers=a1.in_tenant(tenant), json={"verdict": "approve"})
    tap = EventTap(platform, "domain.governance")
    start, answers = threading.Barrier(2), []

    def vote(user: User) -> None:
        with httpx.Client(base_url=platform.base_url, timeout=30) as c:
            start.wait()
            r = c.post(f"/three-wise/questions/{q['id']}/votes", headers=user.in_tenant(tenant),
                       json={"verdict": "approve"})
            answers.append((r.status_code, r.json()["status"] if r.status_code == 200 else r.json()["code"]))

    threads = [threading.Thread(target=vote, args=(u,)) for u in (a2, a3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [(200, "applied"), (409, "QUESTION_NOT_OPEN")], answers
    assert [e["type"] for e in tap.events(tenant)].count("governance.budget_set") == 1


def test_a_licence_under_a_locked_scope_is_issued_by_question(client: httpx.Client, owner: User, tenant: str) -> None:
    (a1,) = admins(client, owner, tenant, 1)
    h = owner.in_tenant(tenant)
    assert client.put("/strategy-locks/licences", headers=h, json={"locked": True, "base_rev": 0}).status_code == 200
    body = {"subject_type": "agent", "subject_id": "muse", "danger": "high", "expires_at": "2999-01-01T00:00:00Z"}
    assert client.post("/firearms/licences", headers=h, json=body).status_code == 423
    direct = client.post("/commands", headers=h, json=_command("governance.licence.issue", "licence", "lic_direct1", 0, body))
    assert direct.status_code == 423 and direct.json()["code"] == "STRATEGY_LOCKED"  # /commands respects the lock too
    q = client.post("/three-wise/questions", headers=h, json={
        "command": _command("governance.licence.issue", "licence", "lic_reviewed1", 0, body), "required": 1}).json()
    done = client.post(f"/three-wise/questions/{q['id']}/votes", headers=a1.in_tenant(tenant),
                       json={"verdict": "approve"}).json()
    assert done["status"] == "applied", done
    check = client.get("/firearms/licences/check/agent/muse", params={"danger": "high"}, headers=h).json()
    assert check["licensed"] and check["licence"]["id"] == "lic_reviewed1"

"""The policy filter over HTTP: the tenant's policy (revisioned, admin), /privacy/scan, and the policy
applied where content enters: chat messages (block -> 422 and nothing stored; redact -> stored redacted)
and DatasetEvents."""
from __future__ import annotations

import httpx

from studio.chat import paths as chat_paths
from studio.ports.store import Query
from tests.support.api import User, add_member, new_user
from tests.support.platform import RunningPlatform

CARD = "4111 1111 1111 1111"
EMAIL = "ada@example.com"
BSN_TEXT = "mijn BSN is 111222333"


def _put_policy(client: httpx.Client, user: User, tenant: str, actions: dict[str, str]) -> httpx.Response:
    h = user.in_tenant(tenant)
    rev = client.get("/privacy/policy", headers=h).json()["rev"]
    return client.put("/privacy/policy", json={"actions": actions, "base_rev": rev}, headers=h)


def _thread(client: httpx.Client, user: User, tenant: str) -> str:
    r = client.post("/chat/threads", json={"title": "policy"}, headers=user.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_policy_defaults_then_revisioned_writes(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    first = client.get("/privacy/policy", headers=h)
    assert first.status_code == 200 and first.headers["ETag"] == '"0"'
    assert first.json()["rev"] == 0 and set(first.json()["actions"].values()) == {"allow"}
    assert "PL_PESEL" in first.json()["actions"] and "IP_ADDRESS" in first.json()["actions"]
    assert client.put("/privacy/policy", json={"actions": {"EMAIL": "redact"}}, headers=h).status_code == 428
    assert client.put("/privacy/policy", json={"actions": {"EMAIL": "redact"}, "base_rev": 3},
                      headers=h).status_code == 409
    done = client.put("/privacy/policy", json={"actions": {"EMAIL": "redact", "CARD": "block"}}, headers={**h, "If-Match": '"0"'})
    assert done.status_code == 200 and done.json()["rev"] == 1 and done.headers["ETag"] == '"1"'
    assert done.json()["actions"]["EMAIL"] == "redact" and done.json()["actions"]["CARD"] == "block"
    assert done.json()["actions"]["PHONE"] == "allow"
    stale = client.put("/privacy/policy", json={"actions": {}}, headers={**h, "If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json()["current_rev"] == 1


def test_bad_policies_are_refused(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    for body in ({"actions": {"EMAIL": "shred"}, "base_rev": 0}, {"actions": {"NOT_A_TYPE": "block"}, "base_rev": 0},
                 {"actions": ["EMAIL"], "base_rev": 0}, {"actions": {}, "base_rev": 2**60}, {"base_rev": 0},
                 {"actions": {}, "base_rev": 0, "extra": 1}):
        r = client.put("/privacy/policy", json=body, headers=h)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), body


def test_only_admins_change_the_policy_and_tenants_are_isolated(client: httpx.Client, owner: User, tenant: str) -> None:
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    denied = _put_policy(client, member, tenant, {"EMAIL": "block"})
    assert denied.status_code == 403 and denied.json()["code"] == "ROLE_INSUFFICIENT"
    assert _put_policy(client, owner, tenant, {"EMAIL": "block"}).status_code == 200
    outsider = new_user(client, "outsider")
    other = client.post("/auth/bootstrap", json={"tenant_name": "Other"}, headers=outsider.auth).json()["tenant_id"]
    assert client.get("/privacy/policy", headers=outsider.in_tenant(tenant)).status_code == 403
    # the other tenant's policy is its own: still all allowed there
    assert set(client.get("/privacy/policy", headers=outsider.in_tenant(other)).json()["actions"].values()) == {"allow"}
    scanned = client.post("/privacy/scan", json={"text": f"mail {EMAIL}"}, headers=outsider.in_tenant(other)).json()
    assert scanned == {"findings": [{"type": "EMAIL", "start": 5, "end": 20, "action": "allow"}], "blocked": False}


def test_scan_reports_type_span_and_action_never_the_text(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    assert _put_policy(client, owner, tenant, {"EMAIL": "redact", "CARD": "block", "NL_BSN": "block"}).status_code == 200
    text = f"{EMAIL} paid {CARD}; {BSN_TEXT}"
    r = client.post("/privacy/scan", json={"text": text}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["blocked"] is True
    assert [(f["type"], text[f["start"]:f["end"]], f["action"]) for f in body["findings"]] == [
        ("EMAIL", EMAIL, "redact"), ("CARD", CARD, "block"), ("NL_BSN", "111222333", "block")]
    assert EMAIL not in r.text and "4111" not in r.text and "111222333" not in r.text
    assert client.post("/privacy/scan", json={"text": "x" * 200_001}, headers=h).status_code == 400
    assert client.post("/privacy/scan", json={"text": 5}, headers=h).status_code == 400


def test_chat_message_blocked_is_422_and_nothing_is_stored(client: httpx.Client, owner: User, tenant: str,
                                                          platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    thread = _thread(client, owner, tenant)
    assert _put_policy(client, owner, tenant, {"CARD": "block", "EMAIL": "block"}).status_code == 200
    r = client.post(f"/chat/threads/{thread}/messages", json={"text": f"my card is {CARD}, mail {EMAIL}"}, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == "POLICY_BLOCKED" and problem["entities"] == ["CARD", "EMAIL"]
    assert "4111" not in r.text and EMAIL not in r.text
    platform.drain()
    assert client.get(f"/chat/threads/{thread}/messages", headers=h).json()["messages"] == []
    stored = platform.deps.store.query(Query(chat_paths.messages(tenant, "dev", thread))).docs
    assert stored == []
    assert client.get(f"/chat/threads/{thread}", headers=h).json()["last_seq"] == 0


def test_chat_message_redacted_is_stored_redacted_and_allowed_is_stored_as_written(
        client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    thread = _thread(client, owner, tenant)
    assert client.post(f"/chat/threads/{thread}/messages", json={"text": f"mail {EMAIL}"}, headers=h).json()["text"] \
        == f"mail {EMAIL}"  # the default policy allows everything
    assert _put_policy(client, owner, tenant, {"EMAIL": "redact", "PHONE": "allow"}).status_code == 200
    posted = client.post(f"/chat/threads/{thread}/messages", json={"text": f"mail {EMAIL} or call +49 30 1234567"},
                         headers=h)
    assert posted.status_code == 201 and posted.json()["text"] == "mail [REDACTED:EMAIL] or call +49 30 1234567"
    platform.drain()
    texts = [m["text"] for m in client.get(f"/chat/threads/{thread}/messages", headers=h).json()["messages"]
             if m["role"] == "user"]
    assert texts == [f"mail {EMAIL}", "mail [REDACTED:EMAIL] or call +49 30 1234567"]


def test_dataset_event_blocked_by_policy(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    event = {"surface": "chat", "agentId": "muse", "input": "ok", "output": "ok", "metadata": {"note": BSN_TEXT}}
    assert client.post("/events/datasets", json=event, headers=h).status_code == 202  # allowed: redacted, logged
    assert _put_policy(client, owner, tenant, {"NL_BSN": "block"}).status_code == 200
    refused = client.post("/events/datasets", json=event, headers=h)
    assert refused.status_code == 422 and refused.json()["code"] == "POLICY_BLOCKED"
    assert refused.json()["entities"] == ["NL_BSN"] and "111222333" not in refused.text
    assert client.post("/events/datasets", json={**event, "metadata": {}}, headers=h).status_code == 202

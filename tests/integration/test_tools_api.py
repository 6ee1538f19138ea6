"""The tool registry and THE invoke path over real HTTP: built-ins listed, schemas enforced, the
Idempotency-Key and base_rev rules, roles, tenant isolation, exports, the audit DatasetEvent."""
from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.api import User, add_member, new_tenant, new_user

BUILTINS = {"chat.post_message", "chat.delete_thread", "identity.rename_tenant", "events.log_dataset_event",
            "privacy.scan_pii", "video.render", "nexus.search"}


def _thread(client: httpx.Client, user: User, tenant: str) -> dict:
    r = client.post("/chat/threads", json={"title": "t", "agent_id": "muse"}, headers=user.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _invoke(client: httpx.Client, user: User, tenant: str, name: str, body: dict, key: str | None = None) -> httpx.Response:
    headers = user.in_tenant(tenant)
    if key:
        headers["Idempotency-Key"] = key
    return client.post(f"/tools/{name}/invoke", json=body, headers=headers)


def test_the_registry_lists_every_builtin_with_its_schemas(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.get("/tools", headers=owner.in_tenant(tenant))
    assert r.status_code == 200, r.text
    tools = {t["name"]: t for t in r.json()["tools"]}
    assert BUILTINS <= set(tools)
    delete = tools["chat.delete_thread"]
    assert delete["danger"] == "high" and delete["destructive"] and delete["builtin"]
    assert delete["input_schema"]["required"] == ["thread_id"]
    one = client.get("/tools/privacy.scan_pii@1.0.0", headers=owner.in_tenant(tenant))
    assert one.status_code == 200 and one.json()["versions"] == ["1.0.0"]
    assert client.get("/tools/privacy.scan_pii@9.9.9", headers=owner.in_tenant(tenant)).json()["code"] == "TOOL_NOT_FOUND"
    assert client.get("/tools/nope.nothing", headers=owner.in_tenant(tenant)).status_code == 404


def test_an_idempotent_read_tool_runs_and_is_audited(client: httpx.Client, owner: User, tenant: str) -> None:
    r = _invoke(client, owner, tenant, "privacy.scan_pii", {"input": {"text": "write to ada@example.com"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tool"] == "privacy.scan_pii" and body["version"] == "1.0.0"
    assert body["audit_id"] and body["usage"]["tokens"] == 0
    assert isinstance(body["output"]["findings"], list)


def test_input_that_breaks_the_schema_is_refused_with_its_own_code(client: httpx.Client, owner: User, tenant: str) -> None:
    for bad in ({}, {"text": 5}, {"text": "x", "extra": 1}, {"text": "x" * 20_001}):
        r = _invoke(client, owner, tenant, "privacy.scan_pii", {"input": bad})
        assert r.status_code == 422 and r.json()["code"] == "TOOL_INPUT_INVALID", (bad, r.text)


def test_a_write_tool_needs_an_idempotency_key_and_replays_its_first_answer(client: httpx.Client, owner: User,
                                                                           tenant: str) -> None:
    thread = _thread(client, owner, tenant)
    body = {"input": {"thread_id": thread["id"], "text": "hello from a tool"}}
    r = _invoke(client, owner, tenant, "chat.post_message", body)
    assert r.status_code == 428 and r.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    key = uuid.uuid4().hex
    first = _invoke(client, owner, tenant, "chat.post_message", body, key)
    assert first.status_code == 200, first.text
    again = _invoke(client, owner, tenant, "chat.post_message", body, key)
    assert again.json()["output"] == first.json()["output"]
    messages = client.get(f"/chat/threads/{thread['id']}/messages", headers=owner.in_tenant(tenant)).json()["messages"]
    assert [m["text"] for m in messages if m["role"] == "user"] == ["hello from a tool"]  # posted once


def test_a_destructive_tool_needs_base_rev_and_a_stale_one_conflicts(client: httpx.Client, owner: User, tenant: str) -> None:
    # Renaming overwrites: base_rev is required, and the tenant's rev decides.
    r = _invoke(client, owner, tenant, "identity.rename_tenant", {"input": {"name": "Renamed"}}, uuid.uuid4().hex)
    assert r.status_code == 428 and r.json()["code"] == "PRECONDITION_REQUIRED"
    rev = client.get(f"/tenants/{tenant}", headers=owner.in_tenant(tenant)).json()["rev"]
    stale = _invoke(client, owner, tenant, "identity.rename_tenant", {"input": {"name": "Renamed"}, "base_rev": rev + 5},
                    uuid.uuid4().hex)
    assert stale.status_code == 409 and stale.json()["code"] == "REVISION_CONFLICT"
    ok = _invoke(client, owner, tenant, "identity.rename_tenant", {"input": {"name": "Renamed"}, "base_rev": rev},
                 uuid.uuid4().hex)
    assert ok.status_code == 200, ok.text
    assert client.get(f"/tenants/{tenant}", headers=owner.in_tenant(tenant)).json()["name"] == "Renamed"


def test_the_tools_role_is_enforced_and_tenants_stay_apart(client: httpx.Client, owner: User, tenant: str) -> None:
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    r = _invoke(client, viewer, tenant, "chat.post_message", {"input": {"thread_id": "th_x", "text": "x"}}, "k-viewer-1")
    assert r.status_code == 403 and r.json()["code"] == "ROLE_INSUFFICIENT"
    other = new_user(client, "other")
    other_tenant = new_tenant(client, other)
    thread = _thread(client, owner, tenant)
    r = _invoke(client, other, other_tenant, "chat.post_message", {"input": {"thread_id": thread["id"], "text": "x"}},
                "k-other-1")
    assert r.status_code == 404  # another tenant's thread does not exist for it
    r = _invoke(client, other, tenant, "privacy.scan_pii", {"input": {"text": "x"}})
    assert r.status_code == 403 and r.json()["code"] == "NOT_A_MEMBER"


def test_exports_give_mcp_annotations_and_closed_openai_schemas(client: httpx.Client, owner: User, tenant: str) -> None:
    mcp = {t["name"]: t for t in client.get("/tools/export/mcp", headers=owner.in_tenant(tenant)).json()["tools"]}
    hints = mcp["chat.delete_thread"]["annotations"]
    assert hints["destructiveHint"] and not hints["readOnlyHint"] and not hints["openWorldHint"]
    assert mcp["privacy.scan_pii"]["annotations"]["readOnlyHint"] and mcp["privacy.scan_pii"]["annotations"]["idempotentHint"]
    assert mcp["chat.post_message"]["inputSchema"]["required"] == ["thread_id", "text"]
    openai = {t["function"]["name"]: t["function"] for t in
              client.get("/tools/export/openai", headers=owner.in_tenant(tenant)).json()["tools"]}
    event = openai["events__log_dataset_event"]
    assert event["strict"] is True and event["parameters"]["additionalProperties"] is False
    params = event["parameters"]
    assert set(params["required"]) == set(params["properties"])  # every field required ...
    assert params["properties"]["agent_id"]["type"] == ["string", "null"]  # ... the optional ones nullable


@pytest.mark.parametrize("body", [{"input": {"text": float("nan")}}, {"input": [1]}, {"input": {"text": "x"}, "base_rev": -1},
                                  {"input": {"text": "x"}, "base_rev": 2**64}, {"input": {"text": "x"}, "extra": True}])
def test_hostile_invoke_bodies_are_problems_not_500s(client: httpx.Client, owner: User, tenant: str, body: dict) -> None:
    r = client.post("/tools/privacy.scan_pii/invoke", content=httpx.Request("POST", "/", json=body).content
                    if "nan" not in str(body) else b'{"input": {"text": NaN}}',
                    headers={**owner.in_tenant(tenant), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json"), r.text


def test_a_tool_name_that_is_not_domain_verb_is_a_validation_problem(client: httpx.Client, owner: User,
                                                                      tenant: str) -> None:
    body = {"version": "1.0.0", "title": "t", "description": "d", "input_schema": {"type": "object"},
            "output_schema": {"type": "object"}, "url": "https://tools.example.com/x", "base_rev": 0}
    for name in ("NoDot", "a.b.c", "x" * 90 + ".y", "a.B"):
        r = client.put(f"/tools/{name}", json=body, headers=owner.in_tenant(tenant))
        assert r.status_code == 400 and r.json()["code"] == "VALIDATION_FAILED", r.text
        assert client.get(f"/tools/{name}", headers=owner.in_tenant(tenant)).status_code == 404


def test_an_agent_posting_by_tool_cannot_start_a_loop(client: httpx.Client, owner: User, tenant: str,
                                                      platform: object) -> None:
    """The agent's own tool-posted message is answered without tools, so /tool inside it never runs."""
    import json

    thread = _thread(client, owner, tenant)
    inner = "/tool chat.post_message " + json.dumps({"thread_id": thread["id"], "text": "again"})
    text = "/tool chat.post_message " + json.dumps({"thread_id": thread["id"], "text": inner})
    assert client.post(f"/chat/threads/{thread['id']}/messages", json={"text": text},
                       headers=owner.in_tenant(tenant)).status_code == 201
    for _ in range(4):
        platform.drain()  # type: ignore[attr-defined] - the pipeline answers, then answers the posted message
    messages = client.get(f"/chat/threads/{thread['id']}/messages", headers=owner.in_tenant(tenant)).json()["messages"]
    posted = [m for m in messages if m["role"] == "user" and m["author"] == "agent:muse"]
    assert [m["text"] for m in posted] == [inner]  # posted once, by the agent
    replies = [m for m in messages if m["role"] == "agent"]
    assert len(replies) == 2 and all(r["status"] == "complete" for r in replies), replies
    assert "[tool result] chat.post_message@1.0.0" in replies[0]["text"]
    assert "[tool call]" not in replies[1]["text"]  # the echo of the agent's message: no tools offered

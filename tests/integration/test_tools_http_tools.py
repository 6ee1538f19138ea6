"""Tenant HTTP tools over real HTTP: registration (admin, revisioned, versions kept, name@version), the
SSRF guard on every call (loopback, private, metadata, a redirect to one), the allow-list, and the
strategy lock on the registry."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tool_world import ToolWorld, start_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolWorld]:
    yield from start_world(Path(tmp_path_factory.mktemp("tools-http")))


def _invoke(world: ToolWorld, name: str, role: str = "owner", **body: object) -> dict:
    r = world.client.post(f"/tools/{name}/invoke", json={"input": {"x": 1}, **body}, headers=world.h(role))
    return {"status": r.status_code, **r.json()}


def test_versions_are_kept_and_each_is_invocable(world: ToolWorld) -> None:
    first = world.put_tool("acme.versioned", world.server.base + "/echo")
    assert first.status_code == 200 and first.json()["version"] == "1.0.0" and first.json()["rev"] == 1, first.text
    second = world.put_tool("acme.versioned", world.server.base + "/redirect-inside", description="v2")
    assert second.json()["version"] == "1.0.1" and second.json()["versions"] == ["1.0.0", "1.0.1"]
    again = world.put_tool("acme.versioned", world.server.base + "/echo", version="1.0.1")
    assert again.status_code == 409 and again.json()["code"] == "TOOL_VERSION_EXISTS"
    assert _invoke(world, "acme.versioned")["version"] == "1.0.1"  # the latest, through an allowed redirect
    old = _invoke(world, "acme.versioned@1.0.0")
    assert old["status"] == 200 and old["version"] == "1.0.0" and old["output"]["echo"] == {"x": 1}
    assert world.server.seen[-1]["body"]["version"] == "1.0.0"
    assert _invoke(world, "acme.versioned@3.0.0")["code"] == "TOOL_NOT_FOUND"


def test_registration_rules(world: ToolWorld) -> None:
    url = world.server.base + "/echo"
    assert world.put_tool("chat.lookalike", url).json()["code"] == "TOOL_NAME_RESERVED"  # a platform domain's prefix
    bad = world.put_tool("acme.badschema", url, input_schema={"type": "object", "properties": {"x": {"type": "nope"}}})
    assert bad.status_code == 422 and bad.json()["code"] == "TOOL_SCHEMA_INVALID"
    assert world.put_tool("acme.array", url, input_schema={"type": "array"}).json()["code"] == "TOOL_SCHEMA_INVALID"
    assert world.put_tool("acme.ftp", "ftp://example.com/x").json()["code"] == "TOOL_URL_REFUSED"
    assert world.put_tool("acme.creds", "https://user:pw@example.com/x").json()["code"] == "TOOL_URL_REFUSED"
    member = world.client.put("/tools/acme.member", json={"version": "1.0.0"}, headers=world.h("member"))
    assert member.status_code == 403 and member.json()["code"] == "ROLE_INSUFFICIENT"
    body = {"version": "1.0.0", "title": "t", "description": "d", "input_schema": {"type": "object"},
            "output_schema": {"type": "object"}, "url": url}
    no_rev = world.client.put("/tools/acme.norev", json=body, headers=world.h())
    assert no_rev.status_code == 428


def test_delete_is_revisioned_and_builtins_stay(world: ToolWorld) -> None:
    created = world.put_tool("acme.doomed", world.server.base + "/echo").json()
    stale = world.client.delete("/tools/acme.doomed", params={"base_rev": created["rev"] + 1}, headers=world.h())
    assert stale.status_code == 409
    gone = world.client.delete("/tools/acme.doomed", params={"base_rev": created["rev"]}, headers=world.h())
    assert gone.status_code == 204
    assert _invoke(world, "acme.doomed")["code"] == "TOOL_NOT_FOUND"
    assert world.client.delete("/tools/chat.post_message", params={"base_rev": 1}, headers=world.h()).status_code == 404


def test_a_locked_registry_refuses_changes(world: ToolWorld) -> None:
    h = world.h()
    locked = world.client.put("/strategy-locks/tools", json={"locked": True, "reason": "freeze", "base_rev": 0}, headers=h)
    assert locked.status_code == 200, locked.text
    try:
        r = world.put_tool("acme.frozen", world.server.base + "/echo")
        assert r.json()["code"] == "STRATEGY_LOCKED" and "/three-wise/questions" in r.text
    finally:
        world.client.put("/strategy-locks/tools", json={"locked": False, "base_rev": locked.json()["rev"]}, headers=h)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/x",  # loopback
    "http://127.0.0.1:9/x",
    "https://localhost/x",  # a name resolving to loopback
    "https://[::1]/x",
    "https://[::ffff:127.0.0.1]/x",  # IPv4-mapped loopback
    "https://10.1.2.3/x",  # private
    "https://192.168.0.10/x",
    "https://172.16.5.5/x",
    "https://169.254.169.254/computeMetadata/v1/",  # the metadata server
    "https://0.0.0.0/x",
    "https://2130706433/x",  # 127.0.0.1 as one decimal number
])
def test_ssrf_targets_are_refused_at_call_time(world: ToolWorld, url: str) -> None:
    name = "acme.ssrf_" + str(abs(hash(url)) % 10_000)
    assert world.put_tool(name, url).status_code == 200  # the URL parses; where it leads is checked per call
    seen = len(world.server.seen)
    result = _invoke(world, name)
    assert result["status"] == 422 and result["code"] == "TOOL_URL_REFUSED", result
    assert len(world.server.seen) == seen


@pytest.mark.parametrize("path", ["/redirect-to-metadata", "/redirect-to-loopback"])
def test_a_redirect_to_a_forbidden_address_is_refused(world: ToolWorld, path: str) -> None:
    name = "acme.redirect_" + path.rsplit("-", 1)[-1]
    assert world.put_tool(name, world.server.base + path).status_code == 200
    result = _invoke(world, name)
    assert result["status"] == 422 and result["code"] == "TOOL_URL_REFUSED", result
    assert world.server.seen[-1]["path"] == path  # the allowed host was called; the redirect target never


def test_an_allow_listed_plain_http_server_is_called_and_its_answer_checked(world: ToolWorld) -> None:
    assert world.put_tool("acme.echo", world.server.base + "/echo").status_code == 200
    ok = _invoke(world, "acme.echo")
    assert ok["status"] == 200 and ok["output"] == {"ok": True, "echo": {"x": 1}}
    assert world.put_tool("acme.text", world.server.base + "/not-json").status_code == 200
    assert _invoke(world, "acme.text")["code"] == "TOOL_FAILED"
    wrong = world.put_tool("acme.strict", world.server.base + "/echo",
                           output_schema={"type": "object", "required": ["missing"]})
    assert wrong.status_code == 200
    assert _invoke(world, "acme.strict")["code"] == "TOOL_OUTPUT_INVALID"


def test_budget_reservation_refuses_a_call_over_the_hard_limit_and_settles_the_rest(world: ToolWorld) -> None:
    assert world.put_tool("acme.priced", world.server.base + "/echo", cost={"usd": 0.4, "tokens": 10}).status_code == 200
    h = world.h()
    budget = world.client.put("/budget/budgets/bud_tools", json={"provider": "tools", "period": "month",
                                                                  "soft_usd": 0.5, "hard_usd": 1.0, "base_rev": 0},
                              headers=h)
    assert budget.status_code == 200, budget.text
    try:
        outcomes = [_invoke(world, "acme.priced") for _ in range(3)]
        assert [o["status"] for o in outcomes[:2]] == [200, 200], outcomes  # 0.8 of 1.0 USD spent
        assert outcomes[2]["code"] == "BUDGET_EXCEEDED", outcomes  # a third 0.4 would pass the hard limit
        assert outcomes[0]["usage"] == {"usd": 0.4, "tokens": 10, "duration_ms": outcomes[0]["usage"]["duration_ms"]}
    finally:
        world.client.delete("/budget/budgets/bud_tools", params={"base_rev": budget.json()["rev"]}, headers=h)


def test_the_policy_filter_runs_on_the_input_and_on_the_output(world: ToolWorld) -> None:
    h = world.h()
    assert world.put_tool("acme.mailer", world.server.base + "/echo",
                          input_schema={"type": "object", "properties": {"to": {"type": "string"}}}).status_code == 200
    current = world.client.get("/privacy/policy", headers=h).json()
    blocked = world.client.put("/privacy/policy", json={"actions": {"EMAIL": "block"}, "base_rev": current["rev"]},
                               headers=h)
    assert blocked.status_code == 200, blocked.text
    seen = len(world.server.seen)
    r = world.client.post("/tools/acme.mailer/invoke", json={"input": {"to": "ada@example.com"}}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "POLICY_BLOCKED" and "ada@example.com" not in r.text
    assert len(world.server.seen) == seen  # refused before the tool was called
    redact = world.client.put("/privacy/policy", json={"actions": {"EMAIL": "redact"}, "base_rev": blocked.json()["rev"]},
                              headers=h)
    assert redact.status_code == 200
    ok = world.client.post("/tools/acme.mailer/invoke", json={"input": {"to": "ada@example.com"}}, headers=h)
    assert ok.status_code == 200, ok.text
    assert world.server.seen[-1]["body"]["input"] == {"to": "[REDACTED:EMAIL]"}  # the endpoint never saw it
    world.client.put("/privacy/policy", json={"actions": {"EMAIL": "allow"}, "base_rev": redact.json()["rev"]}, headers=h)


def test_every_invocation_and_refusal_is_audited(world: ToolWorld) -> None:
    import time

    assert world.put_tool("acme.audited", world.server.base + "/echo").status_code == 200
    done = _invoke(world, "acme.audited")
    refused = _invoke(world, "acme.audited", role="viewer")
    assert done["status"] == 200 and refused["code"] == "ROLE_INSUFFICIENT"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        events = world.client.get("/events/datasets", params={"surface": "tool", "limit": 500},
                                  headers=world.h()).json()["events"]
        mine = [e for e in events if e["metadata"].get("tool") == "acme.audited"]
        if len(mine) >= 2:
            break
        time.sleep(0.1)
    statuses = sorted(e["metadata"]["status"] for e in mine)
    assert statuses == ["complete", "refused"], mine
    assert any(e["eventId"] == done["audit_id"] for e in mine)
    assert next(e for e in mine if e["metadata"]["status"] == "refused")["metadata"]["code"] == "ROLE_INSUFFICIENT"


def test_the_policy_filter_runs_on_the_output_too(world: ToolWorld) -> None:
    h = world.h()
    assert world.put_tool("acme.leaky", world.server.base + "/leak").status_code == 200
    rev = world.client.get("/privacy/policy", headers=h).json()["rev"]
    redact = world.client.put("/privacy/policy", json={"actions": {"EMAIL": "redact"}, "base_rev": rev}, headers=h)
    assert _invoke(world, "acme.leaky")["output"]["contact"] == "[REDACTED:EMAIL]"
    block = world.client.put("/privacy/policy", json={"actions": {"EMAIL": "block"}, "base_rev": redact.json()["rev"]},
                             headers=h)
    refused = world.client.post("/tools/acme.leaky/invoke", json={"input": {}}, headers=h)
    assert refused.status_code == 422 and refused.json()["code"] == "POLICY_BLOCKED"
    assert "grace@example.com" not in refused.text and "tool.output" in refused.text
    world.client.put("/privacy/policy", json={"actions": {"EMAIL": "allow"}, "base_rev": block.json()["rev"]}, headers=h)


def test_a_tenants_http_tools_are_its_own(world: ToolWorld) -> None:
    from tests.support.api import new_tenant

    assert world.put_tool("acme.private", world.server.base + "/echo").status_code == 200
    other = new_tenant(world.client, world.users["member"], "Elsewhere")  # the member owns a second tenant
    h = world.users["member"].in_tenant(other)
    assert world.client.get("/tools/acme.private", headers=h).json()["code"] == "TOOL_NOT_FOUND"
    r = world.client.post("/tools/acme.private/invoke", json={"input": {"x": 1}}, headers=h)
    assert r.status_code == 404 and r.json()["code"] == "TOOL_NOT_FOUND"
    assert "acme.private" not in {t["name"] for t in world.client.get("/tools", headers=h).json()["tools"]}

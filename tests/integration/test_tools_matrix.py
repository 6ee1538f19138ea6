"""The generated governance matrix (issue 9): danger x role x licence x kill switch x strategy lock ->
allowed, or the exact problem code of the first gate that refuses, in the invoke path's order. The same
matrix runs over the three transports: the HTTP API, an agent in chat (the echo responder's
``/tool <name> <json>``) and an outside agent over MCP with the official ``mcp`` SDK as client."""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from tests.support.tool_world import DANGERS, ROLES, ToolWorld, start_world, wait_for_reply

RANK = {"viewer": 0, "member": 1, "admin": 2, "owner": 3}
REQUIRED_ROLE = {"none": "member", "low": "member", "high": "member", "critical": "admin"}
STATES = list(itertools.product((False, True), repeat=3))  # (licensed, killed, locked)


def expected(danger: str, role: str, licensed: bool, killed: bool, locked: bool) -> str:
    """The invoke path's order: kill switch -> strategy lock -> role -> licence -> run."""
    if killed:
        return "KILL_SWITCH_ACTIVE"
    if locked:
        return "STRATEGY_LOCKED"
    if RANK[role] < RANK[REQUIRED_ROLE[danger]]:
        return "ROLE_INSUFFICIENT"
    if danger in ("high", "critical") and not licensed:
        return "LICENCE_REQUIRED"
    return "ok"


def tool(danger: str) -> str:
    return f"acme.noop_{danger}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToolWorld]:
    for w in start_world(Path(tmp_path_factory.mktemp("tools-matrix"))):
        for danger in DANGERS:
            r = w.put_tool(tool(danger), w.server.base + "/echo", danger=danger, required_role=REQUIRED_ROLE[danger])
            assert r.status_code == 200, r.text
        yield w


@contextmanager
def state(w: ToolWorld, subjects: list[tuple[str, str]], licensed: bool, killed: bool, locked: bool) -> Iterator[None]:
    """Set the governance state through governance's own routes; undo it after."""
    c, h = w.client, w.h("owner")
    undo = []
    if licensed:
        expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        for kind, subject_id in subjects:
            r = c.post("/firearms/licences", json={"subject_type": kind, "subject_id": subject_id, "danger": "critical",
                                                    "expires_at": expires}, headers=h)
            assert r.status_code == 201, r.text
            lic = r.json()
            undo.append(lambda lic=lic: c.post(f"/firearms/licences/{lic['id']}/revoke", json={"base_rev": lic["rev"]},
                                               headers=h))
    if killed:
        r = c.post("/kill-switches", json={"target_kind": "tool", "target": "*", "reason": "matrix"}, headers=h)
        assert r.status_code == 201, r.text
        sw = r.json()
        undo.append(lambda: c.delete(f"/kill-switches/{sw['id']}", params={"base_rev": sw["rev"]}, headers=h))
    if locked:
        for danger in DANGERS:
            scope = f"tool:{tool(danger)}"
            rev = next((x["rev"] for x in c.get("/strategy-locks", headers=h).json()["locks"] if x["scope"] == scope), 0)
            r = c.put(f"/strategy-locks/{scope}", json={"locked": True, "reason": "matrix", "base_rev": rev}, headers=h)
            assert r.status_code == 200, r.text
            locked_rev = r.json()["rev"]
            undo.append(lambda scope=scope, rev=locked_rev: c.put(
                f"/strategy-locks/{scope}", json={"locked": False, "base_rev": rev}, headers=h))
    try:
        yield
    finally:
        for step in reversed(undo):
            assert step().status_code in (200, 204)


def test_matrix_over_http(world: ToolWorld) -> None:
    subjects = [("user", world.users[role].user_id) for role in ROLES]
    checked = 0
    for licensed, killed, locked in STATES:
        with state(world, subjects, licensed, killed, locked):
            for danger, role in itertools.product(DANGERS, ROLES):
                r = world.client.post(f"/tools/{tool(danger)}/invoke", json={"input": {"x": 1}, "base_rev": 1},
                                      headers=world.h(role))
                want = expected(danger, role, licensed, killed, locked)
                got = "ok" if r.status_code == 200 else r.json().get("code")
                assert got == want, (danger, role, licensed, killed, locked, r.text)
                if want == "ok":
                    assert r.json()["output"]["echo"] == {"x": 1} and r.json()["audit_id"]
                checked += 1
    assert checked == len(STATES) * len(DANGERS) * len(ROLES) == 128


def test_matrix_for_an_agent_in_chat(world: ToolWorld) -> None:
    """The agent acts with its author's role and its own licence (agent muse); a refusal fails the reply
    with the gate's code. Viewers cannot post to a thread at all, so they are not in this matrix."""
    roles = [r for r in ROLES if r != "viewer"]
    threads = {}
    for role in roles:
        r = world.client.post("/chat/threads", json={"title": "matrix", "agent_id": "muse"}, headers=world.h(role))
        threads[role] = r.json()["id"]
    for licensed, killed, locked in STATES:
        with state(world, [("agent", "muse")], licensed, killed, locked):
            for danger, role in itertools.product(DANGERS, roles):
                text = f"/tool {tool(danger)} " + json.dumps({"x": 2, "base_rev": 1})
                posted = world.client.post(f"/chat/threads/{threads[role]}/messages", json={"text": text},
                                           headers=world.h(role))
                assert posted.status_code == 201, posted.text
                reply = wait_for_reply(world, world.users[role], threads[role], posted.json()["seq"])
                want = expected(danger, role, licensed, killed, locked)
                if want == "ok":
                    assert reply["status"] == "complete", (danger, role, licensed, killed, locked, reply)
                    assert f"[tool result] {tool(danger)}@1.0.0" in reply["text"] and '"echo": {"x": 2}' in reply["text"]
                else:
                    assert reply["status"] == "failed" and reply["error"].startswith(want + ":"), \
                        (danger, role, licensed, killed, locked, reply)
                    assert f"[tool call] {tool(danger)}" in reply["text"]  # the call itself streamed first


async def _mcp_session_calls(world: ToolWorld, role: str, calls: list[str]) -> tuple[list[str], list]:
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=world.h(role), timeout=30) as http, \
            streamable_http_client(world.runtime.base_url + "/mcp", http_client=http) as (read, write), \
            ClientSession(read, write) as session:
        await session.initialize()
        listed = [t.name for t in (await session.list_tools()).tools]
        results = [await session.call_tool(name, {"x": 3}, meta={"io.studio/base_rev": 1}) for name in calls]
        return listed, results


def test_matrix_over_mcp_with_the_official_sdk(world: ToolWorld) -> None:
    """An outside agent is subject kind api_client, with its user's role; its licence is its own."""
    subjects = [("api_client", world.users[role].user_id) for role in ROLES]
    for licensed, killed, locked in STATES:
        with state(world, subjects, licensed, killed, locked):
            for role in ROLES:
                listed, results = anyio.run(_mcp_session_calls, world, role, [tool(d) for d in DANGERS])
                assert {tool(d) for d in DANGERS} | {"chat.post_message", "privacy.scan_pii"} <= set(listed)
                for danger, result in zip(DANGERS, results, strict=True):
                    want = expected(danger, role, licensed, killed, locked)
                    if want == "ok":
                        assert not result.is_error and result.structured_content["echo"] == {"x": 3}, result
                    else:
                        assert result.is_error and result.content[0].text.startswith(want + ":"), \
                            (danger, role, licensed, killed, locked, result)

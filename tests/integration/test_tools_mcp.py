"""MCP's streamable HTTP transport at POST /mcp, message by message: the handshake, notifications,
errors as JSON-RPC answers, authentication like every tenant route, and a retried tools/call that
replays instead of acting twice. (The governance matrix over MCP with the SDK: test_tools_matrix.py.)"""
from __future__ import annotations

import httpx

from tests.support.api import User

ACCEPT = {"Accept": "application/json, text/event-stream"}


def _rpc(client: httpx.Client, owner: User, tenant: str, method: str, params: dict | None = None, msg_id: object = 1,
         session: str | None = None) -> httpx.Response:
    body: dict = {"jsonrpc": "2.0", "method": method, **({"params": params} if params is not None else {})}
    if msg_id is not None:
        body["id"] = msg_id
    headers = {**owner.in_tenant(tenant), **ACCEPT, **({"Mcp-Session-Id": session} if session else {})}
    return client.post("/mcp", json=body, headers=headers)


def test_handshake_list_and_notifications(client: httpx.Client, owner: User, tenant: str) -> None:
    init = _rpc(client, owner, tenant, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                                       "clientInfo": {"name": "t", "version": "1"}})
    assert init.status_code == 200, init.text
    assert init.json()["result"]["protocolVersion"] == "2025-06-18"
    assert init.json()["result"]["capabilities"]["tools"] == {"listChanged": False}
    session = init.headers["Mcp-Session-Id"]
    note = _rpc(client, owner, tenant, "notifications/initialized", msg_id=None, session=session)
    assert note.status_code == 202 and not note.content
    listed = _rpc(client, owner, tenant, "tools/list", {}, 2, session).json()["result"]["tools"]
    scan = next(t for t in listed if t["name"] == "privacy.scan_pii")
    assert scan["annotations"]["readOnlyHint"] is True and scan["inputSchema"]["required"] == ["text"]
    assert _rpc(client, owner, tenant, "ping", {}, 3, session).json()["result"] == {}


def test_errors_are_json_rpc_answers(client: httpx.Client, owner: User, tenant: str) -> None:
    unknown = _rpc(client, owner, tenant, "resources/list", {}).json()
    assert unknown["error"]["code"] == -32601 and unknown["id"] == 1
    no_tool = _rpc(client, owner, tenant, "tools/call", {"name": "nope.nothing", "arguments": {}}).json()
    assert no_tool["error"]["code"] == -32602
    bad_args = _rpc(client, owner, tenant, "tools/call", {"name": "privacy.scan_pii", "arguments": {"text": 5}}).json()
    assert bad_args["result"]["isError"] is True and bad_args["result"]["content"][0]["text"].startswith("TOOL_INPUT_INVALID")
    assert bad_args["result"]["_meta"]["io.studio/problem"]["status"] == 422


def test_mcp_is_authenticated_like_every_tenant_route(client: httpx.Client, owner: User, tenant: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    assert client.post("/mcp", json=body, headers=ACCEPT).status_code == 401
    assert client.post("/mcp", json=body, headers={**owner.auth, **ACCEPT}).status_code == 400  # no tenant
    assert client.get("/mcp", headers=owner.in_tenant(tenant)).status_code == 405  # no server-sent stream
    wrong = client.post("/mcp", json={"jsonrpc": "1.0", "id": 1, "method": "x"}, headers=owner.in_tenant(tenant))
    assert wrong.status_code == 400 and wrong.headers["content-type"].startswith("application/problem+json")


def test_a_retried_call_in_a_session_replays_instead_of_posting_twice(client: httpx.Client, owner: User,
                                                                      tenant: str) -> None:
    thread = client.post("/chat/threads", json={"title": "mcp", "agent_id": "muse"}, headers=owner.in_tenant(tenant)).json()
    session = _rpc(client, owner, tenant, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                                          "clientInfo": {"name": "t", "version": "1"}}).headers["Mcp-Session-Id"]
    call = {"name": "chat.post_message", "arguments": {"thread_id": thread["id"], "text": "from an outside agent"}}
    first = _rpc(client, owner, tenant, "tools/call", call, 7, session).json()["result"]
    again = _rpc(client, owner, tenant, "tools/call", call, 7, session).json()["result"]
    assert first["isError"] is False and again["structuredContent"] == first["structuredContent"]
    other = _rpc(client, owner, tenant, "tools/call", call, 8, session).json()["result"]  # a new request id: a new post
    assert other["structuredContent"]["seq"] != first["structuredContent"]["seq"]
    messages = client.get(f"/chat/threads/{thread['id']}/messages", headers=owner.in_tenant(tenant)).json()["messages"]
    assert sum(1 for m in messages if m["text"] == "from an outside agent") == 2

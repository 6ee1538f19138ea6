"""A retried MCP ``tools/call`` acts once, with the official ``mcp`` SDK client: the same explicit key in
``_meta`` (a client reconnecting in a new session) and the same session + JSON-RPC id, sent together as
well as one after the other. The key is held like an HTTP Idempotency-Key (tools/keyed_calls.py)."""
from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx

from studio.tools.mcp import IDEMPOTENCY_META
from tests.support.api import User

ACCEPT = {"Accept": "application/json, text/event-stream"}


def _thread(client: httpx.Client, owner: User, tenant: str) -> str:
    r = client.post("/chat/threads", json={"title": "mcp", "agent_id": "muse"}, headers=owner.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _posted(client: httpx.Client, owner: User, tenant: str, thread: str, text: str) -> list[dict[str, Any]]:
    listed = client.get(f"/chat/threads/{thread}/messages", headers=owner.in_tenant(tenant)).json()["messages"]
    return [m for m in listed if m["text"] == text]


async def _sdk_calls(base_url: str, headers: dict[str, str], arguments: dict[str, Any], key: str,
                     sessions: int, per_session: int) -> list[Any]:
    """``sessions`` SDK sessions at once, each sending ``per_session`` concurrent calls with one _meta key."""
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    results: list[Any] = []

    async def one_session() -> None:
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http, \
                streamable_http_client(base_url + "/mcp", http_client=http) as (read, write), \
                ClientSession(read, write) as session:
            await session.initialize()

            async def call() -> None:
                results.append(await session.call_tool("chat.post_message", arguments,
                                                       meta={IDEMPOTENCY_META: key}))

            async with anyio.create_task_group() as group:
                for _ in range(per_session):
                    group.start_soon(call)

    async with anyio.create_task_group() as group:
        for _ in range(sessions):
            group.start_soon(one_session)
    return results


def _in_use_or(result: Any, first: dict[str, Any]) -> bool:
    """A concurrent duplicate is told to retry (the key is held), or answered with the first result."""
    if result.is_error:
        return bool(result.content[0].text.startswith("IDEMPOTENCY_KEY_IN_USE:"))
    return bool(result.structured_content == first)


def test_the_same_meta_key_from_concurrent_sessions_posts_once(client: httpx.Client, platform: Any, owner: User,
                                                                tenant: str) -> None:
    thread, text, key = _thread(client, owner, tenant), f"once {uuid.uuid4().hex}", uuid.uuid4().hex
    arguments = {"thread_id": thread, "text": text}
    results = anyio.run(_sdk_calls, platform.base_url, owner.in_tenant(tenant), arguments, key, 3, 3)
    assert len(_posted(client, owner, tenant, thread, text)) == 1  # nine calls, one message
    ok = [r for r in results if not r.is_error]
    assert ok, results
    first = ok[0].structured_content
    assert all(_in_use_or(r, first) for r in results), results
    # Once settled, a retry in yet another session is answered with the first result, and acts not
    later = anyio.run(_sdk_calls, platform.base_url, owner.in_tenant(tenant), arguments, key, 1, 1)
    assert not later[0].is_error and later[0].structured_content == first
    assert len(_posted(client, owner, tenant, thread, text)) == 1
    # The same key with other arguments is refused, not replayed
    other = anyio.run(_sdk_calls, platform.base_url, owner.in_tenant(tenant), {**arguments, "text": "other"}, key, 1, 1)
    assert other[0].is_error and other[0].content[0].text.startswith("IDEMPOTENCY_KEY_REUSED:"), other
    assert not _posted(client, owner, tenant, thread, "other")


def test_the_same_session_and_request_id_sent_together_posts_once(client: httpx.Client, platform: Any, owner: User,
                                                                  tenant: str) -> None:
    thread, text = _thread(client, owner, tenant), f"together {uuid.uuid4().hex}"
    headers = {**owner.in_tenant(tenant), **ACCEPT}
    init = client.post("/mcp", headers=headers, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    session = init.headers["Mcp-Session-Id"]
    body = json.dumps({"jsonrpc": "2.0", "id": 42, "method": "tools/call",
                       "params": {"name": "chat.post_message", "arguments": {"thread_id": thread, "text": text}}})

    def send(_: int) -> dict[str, Any]:
        with httpx.Client(base_url=platform.base_url, timeout=60) as c:
            r = c.post("/mcp", content=body, headers={**headers, "Mcp-Session-Id": session,
                                                      "Content-Type": "application/json"})
            assert r.status_code == 200, r.text
            return dict(r.json()["result"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(send, range(6)))
    assert len(_posted(client, owner, tenant, thread, text)) == 1
    done = [a for a in answers if not a["isError"]]
    assert done and all(a["structuredContent"] == done[0]["structuredContent"] for a in done)
    assert all(a["_meta"]["io.studio/problem"]["code"] == "IDEMPOTENCY_KEY_IN_USE" for a in answers if a["isError"])

"""Chat over HTTP: threads (revisioned), durable seq-ordered messages, and the agent's
streamed reply produced by the real pipeline function through the bus."""
from __future__ import annotations

import httpx

from studio.adapters.echo_llm import LABEL
from studio.chat import paths
from studio.ports.store import Query
from tests.support.api import User, add_member, new_user
from tests.support.platform import RunningPlatform


def _thread(client: httpx.Client, user: User, tenant: str, title: str = "Ideas") -> dict:
    r = client.post("/chat/threads", json={"title": title}, headers=user.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_thread_crud_with_revisions(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    thread = _thread(client, owner, tenant)
    assert thread["epoch"] == 1 and thread["last_seq"] == 0 and thread["rev"] == 1
    listed = client.get("/chat/threads", headers=h).json()["threads"]
    assert [t["id"] for t in listed] == [thread["id"]]
    stale = client.patch(f"/chat/threads/{thread['id']}", json={"title": "x"}, headers={**h, "If-Match": '"9"'})
    assert stale.status_code == 412
    renamed = client.patch(f"/chat/threads/{thread['id']}", json={"title": "Better", "base_rev": 1}, headers=h)
    assert renamed.status_code == 200 and renamed.json()["rev"] == 2
    assert client.delete(f"/chat/threads/{thread['id']}", headers={**h, "If-Match": '"2"'}).status_code == 204
    assert client.get(f"/chat/threads/{thread['id']}", headers=h).status_code == 404
    assert client.get("/chat/threads", headers=h).json()["threads"] == []


def test_the_thread_list_shows_each_threads_last_seq(client: httpx.Client, owner: User, tenant: str) -> None:
    """Counters are read in one batch for the page (issue 16): each thread still gets its own."""
    h = owner.in_tenant(tenant)
    quiet, busy = _thread(client, owner, tenant, "quiet"), _thread(client, owner, tenant, "busy")
    for i in range(2):
        assert client.post(f"/chat/threads/{busy['id']}/messages", json={"text": f"m{i}"}, headers=h).status_code == 201
    listed = {t["id"]: t["last_seq"] for t in client.get("/chat/threads", headers=h).json()["threads"]}
    assert listed[quiet["id"]] == 0 and listed[busy["id"]] >= 2  # the agent's replies may add more


def test_messages_get_monotonic_seq_and_page_by_since(client: httpx.Client, owner: User, tenant: str,
                                                      platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    thread = _thread(client, owner, tenant)
    url = f"/chat/threads/{thread['id']}/messages"
    posted = [client.post(url, json={"text": f"m{i}"}, headers=h).json() for i in range(3)]
    assert [m["seq"] for m in posted] == [1, 2, 3] and all(m["status"] == "complete" for m in posted)
    page = client.get(url, params={"since": 1, "limit": 1}, headers=h).json()
    assert [m["text"] for m in page["messages"]] == ["m1"] and page["next_since"] == 2
    platform.drain()  # the pipeline answers each user message once
    everything = client.get(url, params={"limit": 500}, headers=h).json()["messages"]
    assert [m["seq"] for m in everything] == list(range(1, len(everything) + 1))
    replies = [m for m in everything if m["role"] == "agent"]
    assert len(replies) == 3 and all(m["status"] == "complete" and m["reply_to"] for m in replies)
    assert replies[0]["text"].startswith(LABEL)  # the platform fixture's echo responder


def test_reply_streams_as_chunks_and_is_logged(client: httpx.Client, owner: User, tenant: str,
                                               platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    thread = _thread(client, owner, tenant)
    client.post(f"/chat/threads/{thread['id']}/messages", json={"text": "mail me: ada@example.com"}, headers=h)
    platform.drain()
    messages = client.get(f"/chat/threads/{thread['id']}/messages", headers=h).json()["messages"]
    reply = messages[-1]
    assert reply["role"] == "agent" and reply["status"] == "complete"
    chunks = platform.deps.store.query(Query(paths.chunks(tenant, "dev", thread["id"], reply["seq"]),
                                             order_by=[("n", "asc")])).docs
    assert len(chunks) >= 2 and "".join(c.data["text"] for c in chunks) == reply["text"]
    assert "ada@example.com" not in reply["text"]  # the model never saw the address
    logged = client.get("/events/datasets", params={"surface": "chat"}, headers=h).json()["events"]
    assert logged and logged[0]["threadId"] == thread["id"] and "EMAIL" in logged[0]["piiRedacted"]


def test_viewer_reads_but_cannot_post(client: httpx.Client, owner: User, tenant: str) -> None:
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    thread = _thread(client, owner, tenant)
    assert client.get(f"/chat/threads/{thread['id']}", headers=viewer.in_tenant(tenant)).status_code == 200
    denied = client.post(f"/chat/threads/{thread['id']}/messages", json={"text": "hi"},
                         headers=viewer.in_tenant(tenant))
    assert denied.status_code == 403

"""Streamed replies over the gateway: deltas then completion, a cut mid-reply resumed without
losing a delta, a failing provider, presence and typing."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.adapters.openai_compatible import OpenAiCompatible
from studio.agents.pipeline import AgentPipeline
from studio.chat.services import chat_services
from studio.events.routes import events_services
from tests.support.api import User, add_member, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SseReader, ws_connect, ws_frames, ws_until


def _thread(client: httpx.Client, user: User, tenant: str) -> str:
    return str(client.post("/chat/threads", json={"title": "s"}, headers=user.in_tenant(tenant)).json()["id"])


def _post(client: httpx.Client, user: User, tenant: str, thread_id: str, text: str) -> dict:
    return dict(client.post(f"/chat/threads/{thread_id}/messages", json={"text": text},
                            headers=user.in_tenant(tenant)).json())


def test_reply_streams_deltas_then_completes(client: httpx.Client, owner: User, tenant: str,
                                             platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    reader = SseReader(client, f"/sse/chat/{thread_id}?since=0", owner.in_tenant(tenant))
    _post(client, owner, tenant, thread_id, "tell me a story about a lighthouse keeper and a storm")
    platform.drain()
    reader.wait_for(lambda evs: any(e.event == "message.completed" for e in evs))
    reader.close()
    kinds = [e.event for e in reader.events]
    assert kinds[0] == "message.created" and kinds[1] == "message.created"  # the user's, then the reply's
    deltas = [e for e in reader.events if e.event == "message.delta"]
    assert len(deltas) >= 2 and kinds[-1] == "message.completed"
    final = reader.events[-1].data["data"]
    assert "".join(d.data["data"]["text"] for d in deltas) == final["text"]
    assert [d.data["data"]["n"] for d in deltas] == list(range(1, len(deltas) + 1))


def test_cut_mid_reply_and_resume_loses_no_delta(client: httpx.Client, owner: User, tenant: str,
                                                 platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    reader = SseReader(client, f"/sse/chat/{thread_id}?since=0", owner.in_tenant(tenant))
    _post(client, owner, tenant, thread_id, " ".join(["word"] * 60))  # a long answer: several chunks
    worker = threading.Thread(target=platform.drain)
    worker.start()
    reader.wait_for(lambda evs: any(e.event == "message.delta" for e in evs))
    reader.close()  # the connection drops mid-reply
    cut_at = reader.last_id
    assert cut_at is not None and "~" in cut_at  # the cursor names the reply in progress
    worker.join()
    resumed = SseReader(client, f"/sse/chat/{thread_id}", {**owner.in_tenant(tenant), "Last-Event-ID": cut_at})
    resumed.wait_for(lambda evs: any(e.event == "message.completed" for e in evs))
    resumed.close()
    deltas = [e for e in reader.events + resumed.events if e.event == "message.delta"]
    final = next(e for e in resumed.events if e.event == "message.completed").data["data"]
    ns = [d.data["data"]["n"] for d in deltas]
    assert ns == list(range(1, len(ns) + 1)), "a delta was lost or repeated"
    assert "".join(d.data["data"]["text"] for d in deltas) == final["text"]


@pytest.fixture()
def failing_provider() -> Iterator[str]:
    @Request.application
    def app(request: Request) -> Response:
        return Response(json.dumps({"error": "overloaded"}), status=503, content_type="application/json")

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_provider_failure_yields_message_failed(client: httpx.Client, owner: User, tenant: str,
                                                platform: RunningPlatform, failing_provider: str) -> None:
    thread_id = _thread(client, owner, tenant)
    posted = _post(client, owner, tenant, thread_id, "hello?")
    deps = platform.deps
    pipeline = AgentPipeline(deps.store, chat_services(deps).messages, OpenAiCompatible(failing_provider, model="m"),
                             events_services(deps).logger)
    reader = SseReader(client, f"/sse/chat/{thread_id}?since=1", owner.in_tenant(tenant))
    pipeline.handle(tenant, "dev", thread_id, posted["seq"])
    reader.wait_for(lambda evs: any(e.event == "message.failed" for e in evs))
    reader.close()
    failed = next(e for e in reader.events if e.event == "message.failed").data["data"]
    assert failed["status"] == "failed" and "503" in failed["error"]


def test_presence_and_typing_between_two_clients(client: httpx.Client, owner: User, tenant: str,
                                                 platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    friend = new_user(client, "friend")
    add_member(client, owner, tenant, friend, "member")
    before = platform.deps.store.latest_seq()
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", owner.in_tenant(tenant)) as a:
        assert ws_frames(a, 1)[0]["data"]["presence"] == [owner.user_id]
        with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", friend.in_tenant(tenant)) as b:
            hello = ws_frames(b, 1)[0]
            assert sorted(hello["data"]["presence"]) == sorted([owner.user_id, friend.user_id])
            joined = ws_until(a, lambda fs: fs[-1]["type"] == "presence.join")[-1]
            assert joined["data"]["user_id"] == friend.user_id
            b.send(json.dumps({"type": "typing", "active": True}))
            typing = ws_until(a, lambda fs: fs[-1]["type"] == "typing")[-1]
            assert typing["data"] == {"user_id": friend.user_id, "active": True}
            b.send(json.dumps({"type": "ping"}))
            assert ws_until(b, lambda fs: fs[-1]["type"] == "pong")
        left = ws_until(a, lambda fs: fs[-1]["type"] == "presence.leave")[-1]
        assert left["data"]["user_id"] == friend.user_id
    # Typing and presence never touched the store.
    assert all("typing" not in c.path and "presence" not in c.path
               for c in platform.deps.store.changes("", before))


def test_ws_send_frame_posts_a_message(client: httpx.Client, owner: User, tenant: str,
                                       platform: RunningPlatform) -> None:
    thread_id = _thread(client, owner, tenant)
    with ws_connect(platform.base_url, f"/ws/chat/{thread_id}", owner.in_tenant(tenant)) as ws:
        ws_frames(ws, 1)
        ws.send(json.dumps({"type": "send", "text": "via socket", "client_id": "c-1"}))
        frames = ws_until(ws, lambda fs: any(f["type"] == "ack" for f in fs) and
                          any(f["type"] == "message.created" for f in fs))
    ack = next(f for f in frames if f["type"] == "ack")
    assert ack["data"]["text"] == "via socket" and ack["data"]["client_id"] == "c-1"

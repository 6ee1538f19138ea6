"""The runtime configuration over HTTP: defaults (the deployment's), revisioned admin writes validated
against the known and the deployed providers, tenant and env isolation; and resolve_model in the agent
pipeline: each reply emits runtime_config.used naming the agent, provider and model."""
from __future__ import annotations

import httpx

from tests.support.api import User, add_member, new_user
from tests.support.bus_tap import EventTap
from tests.support.platform import RunningPlatform


def test_defaults_then_a_revisioned_write(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    first = client.get("/runtime-config", headers=h)
    assert first.status_code == 200 and first.headers["ETag"] == '"0"'
    assert first.json() == {"agents": {}, "default": {"provider": "echo", "model": None}, "embeddings": None,
                            "deployed_provider": "echo", "rev": 0, "updated_at": None}
    body = {"agents": {"muse": {"provider": "echo"}}, "embeddings": {"provider": "openai", "model": "text-embedding-3-small"}}
    assert client.put("/runtime-config", json=body, headers=h).status_code == 428
    done = client.put("/runtime-config", json={**body, "base_rev": 0}, headers=h)
    assert done.status_code == 200, done.text
    assert done.json()["agents"] == {"muse": {"provider": "echo", "model": None}} and done.json()["rev"] == 1
    assert done.json()["embeddings"] == {"provider": "openai", "model": "text-embedding-3-small"}
    assert client.get("/runtime-config", headers=h).json() == done.json()
    # another env of the same tenant is its own configuration
    assert client.get("/runtime-config", headers=owner.in_tenant(tenant, "prod")).json()["rev"] == 0


def test_validation(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    cases = [
        ({"agents": {"muse": {"provider": "anthropic"}}}, 400, "VALIDATION_FAILED"),  # not a known provider
        ({"agents": {"muse": {"provider": "openai", "model": "gpt-4o"}}}, 422, "PROVIDER_NOT_DEPLOYED"),
        ({"default": {"provider": "gemini"}}, 422, "PROVIDER_NOT_DEPLOYED"),
        ({"agents": {"muse": {"provider": "echo", "model": "bigger"}}}, 422, "MODEL_NOT_SELECTABLE"),
        ({"agents": {"Bad Agent!": {"provider": "echo"}}}, 400, "AGENT_ID_INVALID"),
        ({"agents": {"muse": {"provider": "echo", "model": "../../etc/passwd"}}}, 400, "VALIDATION_FAILED"),
        ({"agents": {f"a{i}": {"provider": "echo"} for i in range(51)}}, 400, "VALIDATION_FAILED"),
        ({"agents": [], "surprise": 1}, 400, "VALIDATION_FAILED"),
    ]
    for body, status, code in cases:
        r = client.put("/runtime-config", json={**body, "base_rev": 0}, headers=h)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    assert client.get("/runtime-config", headers=h).json()["rev"] == 0  # nothing was written


def test_roles(client: httpx.Client, owner: User, tenant: str) -> None:
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    mh = member.in_tenant(tenant)
    assert client.get("/runtime-config", headers=mh).status_code == 200
    denied = client.put("/runtime-config", json={"agents": {}, "base_rev": 0}, headers=mh)
    assert denied.status_code == 403 and denied.json()["code"] == "ROLE_INSUFFICIENT"
    outsider = new_user(client, "outsider")
    assert client.get("/runtime-config", headers=outsider.in_tenant(tenant)).status_code == 403


def test_each_reply_resolves_the_model_and_emits_a_usage_event(client: httpx.Client, owner: User, tenant: str,
                                                               platform: RunningPlatform) -> None:
    h = owner.in_tenant(tenant)
    tap = EventTap(platform, "domain.runtime_config")
    assert client.put("/runtime-config", json={"agents": {"muse": {"provider": "echo"}}, "base_rev": 0},
                      headers=h).status_code == 200
    thread = client.post("/chat/threads", json={"title": "rc"}, headers=h).json()["id"]
    for text in ("one", "two"):
        assert client.post(f"/chat/threads/{thread}/messages", json={"text": text}, headers=h).status_code == 201
    platform.drain()
    events = [e for e in tap.events(tenant)]
    used = [e for e in events if e["type"] == "runtime_config.used"]
    assert len(used) == 2
    assert all(e["data"] == {"agent_id": "muse", "provider": "echo", "model": None, "source": "agent", "byok": False}
               for e in used)
    assert [e["type"] for e in events].count("runtime_config.changed") == 1


def test_a_configuration_the_deployment_cannot_run_fails_the_reply_with_its_reason(
        client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    """Written when the deployment ran openai (as the store keeps it), read by one that runs echo: the
    reply fails and says why; it is never answered by another provider's model instead."""
    from studio.runtime_config import paths

    h = owner.in_tenant(tenant)
    platform.deps.store.put(paths.selecta(tenant, "dev"), {
        "agents": {"muse": {"provider": "openai", "model": "gpt-4o"}}, "default": None, "embeddings": None})
    thread = client.post("/chat/threads", json={"title": "moved"}, headers=h).json()["id"]
    assert client.post(f"/chat/threads/{thread}/messages", json={"text": "hello"}, headers=h).status_code == 201
    platform.drain()
    reply = [m for m in client.get(f"/chat/threads/{thread}/messages", headers=h).json()["messages"]
             if m["role"] == "agent"][-1]
    assert reply["status"] == "failed" and reply["text"] == ""
    assert reply["error"] == "agent muse is configured for openai, but this deployment runs echo"

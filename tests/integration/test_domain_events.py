"""The domain registry is the truth about the bus: every message the code publishes has an event
type and a topic its domain declares in studio/domains.py (so Terraform creates the topic), and
every declared event type is really emitted (the table has no stale rows).

One flow over real HTTP exercises every state change of every domain, in a tenant of its own. The
local bus keeps every message published; the flow's (its tenant's, and its users' sign-ups) are read
back from the bus's database once the outbox is relayed. Other tests publish hand-made messages on
the same bus, which is why the check is scoped to the flow.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx

from studio import domains
from tests.support.api import PASSWORD, add_member, invite, latest_token, new_tenant, new_user
from tests.support.platform import RunningPlatform


def _published(data_dir: Path, tenant_id: str, user_ids: set[str]) -> set[tuple[str, str]]:
    """(event type, topic) of every message on the local bus about the tenant or the users' sign-ups."""
    with sqlite3.connect(data_dir / "bus.db") as conn:
        rows = conn.execute("SELECT topic, attributes, data FROM messages").fetchall()
    found = set()
    for topic, raw_attributes, data in rows:
        attributes = json.loads(raw_attributes)
        about_a_user = str(attributes.get("type", "")).startswith("user.") \
            and json.loads(data)["data"].get("user_id") in user_ids
        if attributes.get("tenant") == tenant_id or about_a_user:
            found.add((attributes["type"], topic))
    return found


def _every_state_change(c: httpx.Client, drain: Callable[[], object]) -> tuple[str, set[str]]:
    """Every state change of every domain; the tenant and users it made."""
    owner = new_user(c, "owner")  # user.signed_up
    tenant = new_tenant(c, owner, "Events Inc")  # tenant.created
    h = owner.in_tenant(tenant)
    assert c.patch(f"/tenants/{tenant}", json={"name": "Renamed"}, headers={**h, "If-Match": '"1"'}).is_success
    member = new_user(c, "member")
    add_member(c, owner, tenant, member, "member")  # user.email_verified, member.invited, member.added
    path = f"/tenants/{tenant}/members/{member.user_id}"
    assert c.patch(path, json={"role": "admin", "base_rev": 1}, headers=h).is_success  # member.role_changed
    assert c.delete(path, headers={**h, "If-Match": "*"}).is_success  # member.removed
    revoked = invite(c, owner, tenant, "someone-else@example.com", "viewer").json()["invitation_id"]
    assert c.delete(f"/tenants/{tenant}/invitations/{revoked}", headers=h).is_success  # member.invitation_revoked

    new_password = "Another-Horse-43"
    assert c.post("/auth/password", json={"current_password": PASSWORD, "new_password": new_password},
                  headers=member.auth).is_success  # user.password_changed
    assert c.post("/auth/password/reset", json={"email": member.email}).status_code == 202
    token = latest_token(c, member.email, "password_reset")
    assert c.post("/auth/password/reset/confirm", json={"token": token, "new_password": PASSWORD}
                  ).is_success  # user.password_reset

    thread = c.post("/chat/threads", json={"title": "t"}, headers=h).json()  # chat.thread_created
    thread_url = f"/chat/threads/{thread['id']}"
    assert c.patch(thread_url, json={"title": "u"}, headers={**h, "If-Match": '"1"'}).is_success  # chat.thread_renamed
    assert c.post(f"{thread_url}/messages", json={"text": "hello"}, headers=h).is_success  # chat.message_posted
    drain()  # the agent pipeline answers: chat.reply_started, then chat.reply_finished
    assert any(m["role"] == "agent" and m["status"] != "streaming"
               for m in c.get(f"{thread_url}/messages", headers=h).json()["messages"])
    assert c.delete(thread_url, headers={**h, "If-Match": "*"}).is_success  # chat.thread_deleted

    assert c.post("/events/datasets", json={"surface": "chat", "agentId": "a", "input": "x", "output": "y"},
                  headers=h).status_code == 202  # dataset_event.logged
    assert c.put("/privacy/training-prefs", json={"train_ok": True, "base_rev": 0},
                 headers=h).is_success  # privacy.training_prefs_changed

    site = c.post("/sites", json={"name": "Shop", "origins": ["https://shop.example"]}, headers=h).json()
    assert c.patch(f"/sites/{site['id']}", json={"name": "Shop 2", "base_rev": 1}, headers=h).is_success
    key = c.post(f"/sites/{site['id']}/keys", headers=h).json()  # analytics.key_created
    assert c.post("/analytics/events/pageview", params={"key": key["key"]}, headers={
        "Origin": "https://shop.example", "User-Agent": "Mozilla/5.0"},
        json={"anonymous_id": "a1", "url": "https://shop.example/"}).status_code == 202  # analytics.events
    assert c.delete(f"/sites/{site['id']}/keys/{key['id']}", headers=h).is_success  # analytics.key_revoked
    signal = c.post("/signals", json={"name": "views", "type": "number", "aggregation": "count",
                                      "source": {"event_type": "pageview"}}, headers=h).json()
    assert c.patch(f"/signals/{signal['id']}", json={"window": "7d", "base_rev": 1}, headers=h).is_success
    assert c.delete(f"/signals/{signal['id']}", headers={**h, "If-Match": "*"}).is_success
    rule = c.post("/personalization/rules", json={"slot": "hero", "segment": {}, "variant": "v"}, headers=h).json()
    assert c.patch(f"/personalization/rules/{rule['id']}", json={"variant": "w", "base_rev": 1}, headers=h).is_success
    assert c.delete(f"/personalization/rules/{rule['id']}", headers={**h, "If-Match": "*"}).is_success
    assert c.put("/seo/pages", json={"surface": "web", "page_type": "home", "path": "/", "base_rev": 0},
                 headers=h).is_success  # analytics.seo_page_saved

    exp = c.post("/experiments", json={"key": "ev", "variations": [{"key": "a"}, {"key": "b"}]},
                 headers=h).json()  # experiments.experiment_created
    exp_url = f"/experiments/{exp['id']}"
    assert c.patch(exp_url, json={"coverage": 0.9, "base_rev": 1}, headers=h).is_success  # experiment_updated
    assert c.patch(exp_url, json={"status": "running", "base_rev": 2}, headers=h).is_success  # experiment_started
    assert c.post("/flags", json={"key": "ev", "rules": [{"kind": "experiment", "experiment_id": exp["id"]}]},
                  headers=h).is_success  # experiments.flag_created
    assert c.patch("/flags/ev", json={"status": "running", "base_rev": 1}, headers=h).is_success  # flag_updated
    sdk = c.post("/flags/sdk-keys", json={}, headers=h).json()  # experiments.sdk_key_created
    assert c.post("/ofrep/v1/evaluate/flags/ev", json={"context": {"targetingKey": "u"}},
                  headers={"Authorization": f"Bearer {sdk['key']}"}).is_success  # an exposure: analytics.events
    assert c.post(f"/flags/sdk-keys/{sdk['id']}/revoke", headers=h).is_success  # experiments.sdk_key_revoked
    assert c.patch(exp_url, json={"status": "stopped", "base_rev": 3}, headers=h).is_success  # experiment_stopped
    return tenant, {owner.user_id, member.user_id}


def test_every_published_message_is_declared_and_every_declared_event_is_published(
        client: httpx.Client, platform: RunningPlatform) -> None:
    tenant, users = _every_state_change(client, platform.drain)
    platform.drain()
    published = _published(platform.deps.settings.data_dir, tenant, users)
    declared = {(kind, topic) for row in domains.DOMAINS for kind, topic in row.events.items()}
    meta = {topic for row in domains.DOMAINS for topic in row.topics}
    undeclared = {(kind, topic) for kind, topic in published if (kind, topic) not in declared and topic not in meta}
    assert not undeclared, f"declare these (event type, topic) in their domain's row of studio/domains.py: {undeclared}"
    assert declared <= published, f"declared but never emitted by the flow: {declared - published}"

"""The domain registry is the truth about the bus: every message the code publishes has an event
type and a topic its domain declares in studio/domains.py (so Terraform creates the topic), and
every declared event type is really emitted (the table has no stale rows).

One flow over real HTTP exercises every state change of every domain, on a runtime of its own so
the bus holds only this flow's messages; the local bus keeps every published message, which is
read back from its database after the outbox is relayed.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from studio import domains
from tests.support.api import add_member, new_tenant, new_user
from tests.support.platform import RunningPlatform, start_platform


@pytest.fixture(scope="module")
def own_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("domain-events"), rate_limit_per_minute=1_000_000)
    yield running
    running.stop()


def _published(data_dir: Path) -> set[tuple[str, str]]:
    """(event type, topic) of every message on the local bus."""
    with sqlite3.connect(data_dir / "bus.db") as conn:
        rows = conn.execute("SELECT topic, attributes FROM messages").fetchall()
    return {(json.loads(attributes)["type"], topic) for topic, attributes in rows}


def _every_state_change(c: httpx.Client) -> None:
    owner = new_user(c, "owner")  # user.signed_up
    tenant = new_tenant(c, owner, "Events Inc")  # tenant.created
    h = owner.in_tenant(tenant)
    assert c.patch(f"/tenants/{tenant}", json={"name": "Renamed"}, headers={**h, "If-Match": '"1"'}).is_success
    member = new_user(c, "member")
    add_member(c, owner, tenant, member, "member")  # member.added
    path = f"/tenants/{tenant}/members/{member.user_id}"
    assert c.patch(path, json={"role": "admin", "base_rev": 1}, headers=h).is_success  # member.role_changed
    assert c.delete(path, headers=h).is_success  # member.removed

    thread = c.post("/chat/threads", json={"title": "t"}, headers=h).json()  # chat.thread_created
    assert c.post(f"/chat/threads/{thread['id']}/messages", json={"text": "hello"},
                  headers=h).is_success  # chat.message_posted
    assert c.delete(f"/chat/threads/{thread['id']}", headers=h).is_success  # chat.thread_deleted

    assert c.post("/events/datasets", json={"surface": "chat", "agentId": "a", "input": "x", "output": "y"},
                  headers=h).status_code == 202  # dataset_event.logged
    assert c.put("/privacy/training-prefs", json={"train_ok": True, "base_rev": 0},
                 headers=h).is_success  # privacy.training_prefs_changed


def test_every_published_message_is_declared_and_every_declared_event_is_published(
        own_platform: RunningPlatform) -> None:
    with httpx.Client(base_url=own_platform.base_url, timeout=30) as c:
        _every_state_change(c)
    own_platform.drain()
    published = _published(own_platform.deps.settings.data_dir)
    declared = {(kind, topic) for row in domains.DOMAINS for kind, topic in row.events.items()}
    meta = {topic for row in domains.DOMAINS for topic in row.topics}
    undeclared = {(kind, topic) for kind, topic in published if (kind, topic) not in declared and topic not in meta}
    assert not undeclared, f"declare these (event type, topic) in their domain's row of studio/domains.py: {undeclared}"
    assert declared <= published, f"declared but never emitted by the flow: {declared - published}"

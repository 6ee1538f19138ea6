"""DatasetEvent logging end to end (CAPABILITIES H29): real SQLite, real HTTP, the real bus.

The session's local platform (tests/conftest.py: every function of functions/manifest.yaml
behind uvicorn on loopback) carries events POST -> logger -> bus -> writer function -> store;
delivery is driven deterministically with ``drain`` (EventDelivery.run_until_idle).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from studio.events.models import TOPIC, DatasetEventIn
from studio.events.routes import WRITER_SUBSCRIPTION, events_services
from studio.identity.local_tokens import LocalTokenIssuer
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from tests.support.api import User, add_member, new_user
from tests.support.platform import RunningPlatform


@dataclass
class World:
    http: httpx.Client
    platform: RunningPlatform
    tenant_id: str
    owner: User
    member: User

    def call(self, user: User, method: str, path: str, **kw: object) -> httpx.Response:
        headers = {**user.in_tenant(self.tenant_id), **kw.pop("headers", {})}  # type: ignore[dict-item]
        return self.http.request(method, path, headers=headers, **kw)  # type: ignore[arg-type]

    def log(self, user: User, **event: object) -> str:
        body = {"surface": "chat", "agentId": "agent-1", "input": "hi", "output": "hello", **event}
        resp = self.call(user, "POST", "/events/datasets", json=body)
        assert resp.status_code == 202, resp.text
        return resp.json()["event_id"]

    def events(self, **params: object) -> list[dict]:
        resp = self.call(self.owner, "GET", "/events/datasets", params={"limit": 500, **params})
        assert resp.status_code == 200, resp.text
        return resp.json()["events"]

    def stats(self, *, system: bool = False) -> dict:
        headers = {}
        if system:  # platform-wide counts are for service identities, minted by the real issuer
            issuer = LocalTokenIssuer(self.platform.deps.keyring, issuer=self.platform.base_url, ttl_s=300)
            headers = {"Authorization": "Bearer " + issuer.issue("svc_ops", None, None, system=True)}
        resp = self.call(self.owner, "GET", "/events/datasets/stats", headers=headers)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture
def world(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> World:
    """A fresh tenant per test: its counters and listings start empty on the shared platform."""
    member = new_user(client, "member")
    add_member(client, owner, tenant, member, "member")
    return World(client, platform, tenant, owner, member)


def test_pii_is_redacted_before_storage(world: World):
    event_id = world.log(
        world.member, agentId="support-bot",
        input="mail jane.doe@example.com, call +1 650-253-0000, card 4111 1111 1111 1111",
        output={"reply": "noted", "echo": ["fine", "bob@example.org"]},
        metadata={"contact": "+1 650-253-0000", "plan": "pro"}, tags=["vip"], latencyMs=120)
    assert world.events() == []  # queued, not yet written
    world.platform.drain()

    [stored] = world.events()
    assert stored["eventId"] == event_id
    assert stored["input"] == "mail [REDACTED:EMAIL], call [REDACTED:PHONE], card [REDACTED:CARD]"
    assert stored["output"] == {"reply": "noted", "echo": ["fine", "[REDACTED:EMAIL]"]}
    assert stored["metadata"] == {"contact": "[REDACTED:PHONE]", "plan": "pro"}
    assert stored["piiRedacted"] == ["CARD", "EMAIL", "PHONE"]
    assert stored["tenantId"] == world.tenant_id and stored["env"] == "dev"
    assert stored["userId"] == world.member.user_id
    assert stored["trainOk"] is False  # nobody chose: no consent
    assert stored["latencyMs"] == 120 and stored["tags"] == ["vip"]
    assert world.stats()["counters"] == {"written": 1, "duplicates": 0}


def test_training_prefs_are_revisioned_and_honoured(world: World):
    member = world.member
    first = world.call(member, "GET", "/privacy/training-prefs")
    assert first.status_code == 200
    assert first.json() == {"user_id": member.user_id, "train_ok": False, "rev": 0, "updated_at": None,
                            "source": "default"}
    assert first.headers["ETag"] == '"0"'

    no_precondition = world.call(member, "PUT", "/privacy/training-prefs", json={"train_ok": True})
    assert no_precondition.status_code == 428
    assert no_precondition.json()["code"] == "PRECONDITION_REQUIRED"
    ahead = world.call(member, "PUT", "/privacy/training-prefs", json={"train_ok": True, "base_rev": 3})
    assert (ahead.status_code, ahead.json()["current_rev"]) == (409, 0)

    opt_in = world.call(member, "PUT", "/privacy/training-prefs", json={"train_ok": True, "base_rev": 0})
    assert opt_in.status_code == 200, opt_in.text
    assert (opt_in.json()["train_ok"], opt_in.json()["rev"], opt_in.json()["source"]) == (True, 1, "user")
    assert opt_in.headers["ETag"] == '"1"'
    stale = world.call(member, "PUT", "/privacy/training-prefs", json={"train_ok": False},
                       headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert (stale.json()["code"], stale.json()["current_rev"]) == ("REVISION_CONFLICT", 1)
    stale_body = world.call(member, "PUT", "/privacy/training-prefs", json={"train_ok": False, "base_rev": 0})
    assert stale_body.status_code == 409

    opted_in_event = world.log(member, agentId="prefs")
    owner_event = world.log(world.owner, agentId="prefs")  # the owner never opted in
    opt_out = world.call(member, "PUT", "/privacy/training-prefs", json={"train_ok": False},
                         headers={"If-Match": opt_in.headers["ETag"]})
    assert (opt_out.status_code, opt_out.json()["rev"]) == (200, 2)
    opted_out_event = world.log(member, agentId="prefs")
    world.platform.drain()

    train_ok = {e["eventId"]: e["trainOk"] for e in world.events(agent="prefs")}
    assert train_ok == {opted_in_event: True, owner_event: False, opted_out_event: False}
    assert world.call(member, "GET", "/privacy/training-prefs").json()["rev"] == 2


def test_admin_reads_with_filters_and_pages(world: World):
    ids: dict[str, list[str]] = {"early": [], "late": []}
    for surface, agent in (("chat", "a1"), ("chat", "a2"), ("analytics.pageview", "a1")):
        ids["early"].append(world.log(world.owner, surface=surface, agentId=agent))
    middle = datetime.now(UTC)
    time.sleep(0.002)
    for surface, agent in (("chat", "a1"), ("chat", "a1"), ("analytics.pageview", "a2")):
        ids["late"].append(world.log(world.member, surface=surface, agentId=agent))
    world.platform.drain()

    everything = world.events()
    assert [e["eventId"] for e in everything] == list(reversed(ids["early"] + ids["late"]))  # newest first
    assert {e["eventId"] for e in world.events(surface="chat", agent="a1")} == {
        ids["early"][0], ids["late"][0], ids["late"][1]}
    assert {e["eventId"] for e in world.events(agentId="a2")} == {ids["early"][1], ids["late"][2]}
    assert [e["eventId"] for e in world.events(since=middle.isoformat())] == list(reversed(ids["late"]))
    assert [e["eventId"] for e in world.events(until=middle.isoformat())] == list(reversed(ids["early"]))
    in_offset = middle.astimezone(timezone(timedelta(hours=2))).isoformat()
    assert len(world.events(since=in_offset, surface="chat")) == 2

    pages, token = [], None
    while True:
        params = {"limit": 2, **({"page_token": token} if token else {})}
        resp = world.call(world.owner, "GET", "/events/datasets", params=params)
        assert resp.status_code == 200, resp.text
        pages.append([e["eventId"] for e in resp.json()["events"]])
        token = resp.json()["next_page_token"]
        if token is None:
            break
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [i for p in pages for i in p] == [e["eventId"] for e in everything]

    for bad in ({"limit": 0}, {"limit": 501}, {"since": "yesterday"}, {"since": "2024-01-01T00:00:00"},
                {"since": middle.isoformat(), "until": middle.isoformat()}, {"page_token": "!!"}, {"nope": 1}):
        resp = world.call(world.owner, "GET", "/events/datasets", params=bad)
        assert resp.status_code == 400, (bad, resp.text)


def test_roles_and_tenant_binding(world: World):
    member, outsider = world.member, new_user(world.http, "outsider")
    for path in ("/events/datasets", "/events/datasets/stats"):
        resp = world.call(member, "GET", path)
        assert (resp.status_code, resp.json()["code"]) == (403, "ROLE_INSUFFICIENT")
    resp = world.call(outsider, "POST", "/events/datasets", json={"surface": "chat", "agentId": "a",
                                                                  "input": "", "output": ""})
    assert (resp.status_code, resp.json()["code"]) == (403, "NOT_A_MEMBER")
    assert world.call(outsider, "GET", "/privacy/training-prefs").status_code == 403
    unauthenticated = world.http.get("/events/datasets", headers={"X-Tenant-Id": world.tenant_id, "X-Env": "dev"})
    assert unauthenticated.status_code == 401

    body = {"surface": "chat", "agentId": "a", "input": "x", "output": "y"}
    other = world.call(member, "POST", "/events/datasets", json={**body, "tenantId": "t_someoneelse"})
    assert (other.status_code, other.json()["code"]) == (400, "TENANT_MISMATCH")
    assert world.call(member, "POST", "/events/datasets", json={**body, "env": "prod"}).status_code == 400
    same = world.call(member, "POST", "/events/datasets", json={**body, "tenantId": world.tenant_id, "env": "dev"})
    assert same.status_code == 202
    as_other_user = world.call(member, "POST", "/events/datasets", json={**body, "userId": world.owner.user_id})
    assert (as_other_user.status_code, as_other_user.json()["code"]) == (403, "FORBIDDEN")
    missing = world.call(member, "POST", "/events/datasets", json={"surface": "chat", "agentId": "a"})
    assert missing.status_code == 400
    assert {e["field"] for e in missing.json()["errors"]} == {"body.input", "body.output"}


def test_redelivery_and_retried_posts_store_once(world: World):
    # A producer that republishes after a timeout: two messages, one event id.
    ctx = RequestContext(world.tenant_id, "dev", Principal(world.member.user_id), Role.MEMBER)
    logger = events_services(world.platform.deps).logger
    record = logger.prepare(ctx, DatasetEventIn(surface="chat", agent_id="dup", input="q", output="a"))
    first, second = logger.publish(record), logger.publish(record)
    assert first != second
    # A client retrying its POST with the same Idempotency-Key gets the first answer back.
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"surface": "chat", "agentId": "dup", "input": "q2", "output": "a2"}
    posted = [world.call(world.member, "POST", "/events/datasets", json=body, headers=key) for _ in range(2)]
    assert posted[0].json() == posted[1].json() and posted[1].headers["Idempotent-Replayed"] == "true"
    world.platform.drain()

    stored = world.events(agent="dup")
    assert sorted(e["eventId"] for e in stored) == sorted([record.event_id, posted[0].json()["event_id"]])
    assert world.stats()["counters"] == {"written": 2, "duplicates": 1}


def test_malformed_messages_are_retried_then_dead_lettered_and_counted(world: World):
    bus, delivery = world.platform.deps.bus, world.platform.platform.delivery
    sub_before, stats_before = bus.stats(WRITER_SUBSCRIPTION), world.stats(system=True)
    failed_before = delivery.counters["dataset_event_writer.failed"]
    attrs = {"tenant": world.tenant_id, "env": "dev", "type": "dataset_event.logged"}
    bus.publish(TOPIC, b"not json", attrs)
    bus.publish(TOPIC, b'{"tenantId": "%s", "env": "dev", "surface": "chat"}' % world.tenant_id.encode(), attrs)

    # Five attempts with exponential backoff between them (the session platform sets a 0.05 s base).
    deadline = time.monotonic() + 15
    while bus.stats(WRITER_SUBSCRIPTION)["dead_lettered"] < sub_before["dead_lettered"] + 2:
        assert time.monotonic() < deadline, bus.stats(WRITER_SUBSCRIPTION)
        world.platform.drain()
        time.sleep(0.02)

    dead = bus.dead_letters(WRITER_SUBSCRIPTION)[-2:]
    assert [m.data[:8] for m, _ in dead] == [b"not json", b'{"tenant']
    assert all("MalformedDatasetEvent" in error for _, error in dead)
    stats = world.stats(system=True)
    admin_view = world.stats()
    assert admin_view["rejected"] is None and admin_view["delivery"] is None  # no cross-tenant counts
    assert stats["rejected"] - stats_before["rejected"] == 10  # five attempts each, every one counted
    assert stats["delivery"]["subscription"] == WRITER_SUBSCRIPTION
    assert stats["delivery"]["dead_lettered"] - sub_before["dead_lettered"] == 2
    assert stats["delivery"]["redelivered"] - sub_before["redelivered"] == 8
    assert delivery.counters["dataset_event_writer.failed"] - failed_before == 10
    assert stats["counters"] == {"written": 0, "duplicates": 0}
    assert world.events() == []

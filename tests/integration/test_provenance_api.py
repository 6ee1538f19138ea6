"""The provenance ledger end to end (issue 10, item 5): media-shaped domain events on the real bus ->
the provenance_writer function -> the hash chain in the real SQLite store -> /provenance/* over HTTP."""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from studio.provenance import paths
from studio.provenance.chain_hash import GENESIS, entry_body, entry_hash
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.provenance import media_event, new_id, publish, raw_publish, record, ref, sha

WRITER_SUBSCRIPTION = "fn-provenance_writer"


@dataclass
class Ledger:
    http: httpx.Client
    platform: RunningPlatform
    tenant_id: str
    owner: User

    def get(self, path: str, user: User | None = None, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params, headers=(user or self.owner).in_tenant(self.tenant_id))

    def ok(self, path: str, **params: Any) -> Any:
        resp = self.get(path, **params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def entries(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.ok("/provenance/entries", limit=500, **params)["entries"])

    def send(self, provenance: dict[str, Any] | None, **kw: Any) -> str:
        event = media_event(self.tenant_id, provenance)
        publish(self.platform, event, **kw)
        return event.id

    def store_entry(self, seq: int) -> Any:
        return self.platform.deps.store.get(paths.entry(self.tenant_id, "dev", seq))


@pytest.fixture
def ledger(client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> Ledger:
    return Ledger(client, platform, tenant, owner)


def _history(ledger: Ledger) -> dict[str, str]:
    """upload -> derive two variants -> edit -> an AI edit of a variant: five events."""
    asset, v1, v2, ai = new_id("as"), new_id("ar"), new_id("ar"), new_id("ar")
    a = {"kind": "asset", "id": asset}
    events = [
        record("upload", a, outputs=[ref("asset", asset, sha("original"))], params={"filename": "cat.jpg"}),
        record("derive", a, actor=("tool", "media_optimizer"), inputs=[ref("asset", asset, sha("original"))],
               outputs=[ref("artifact", v1, sha("v1")), ref("artifact", v2, sha("v2"))],
               params={"widths": [320, 640], "format": "webp", "quality": 0.8}),
        record("edit", a, params={"title": "Cat"}),
        record("ai", {"kind": "artifact", "id": ai}, actor=("agent", "muse"), inputs=[ref("artifact", v1, sha("v1"))],
               outputs=[ref("artifact", ai, sha("ai"))], params={"prompt": "make it blue", "seed": 7}),
    ]
    ids = [ledger.send(e) for e in events]
    ledger.platform.drain()
    return {"asset": asset, "v1": v1, "v2": v2, "ai": ai, **{f"event{i}": e for i, e in enumerate(ids)}}


def test_media_events_become_one_verified_chain(ledger: Ledger) -> None:
    h = _history(ledger)
    entries = ledger.entries()
    assert [e["seq"] for e in entries] == [4, 3, 2, 1]  # newest first
    assert [e["action"] for e in reversed(entries)] == ["upload", "derive", "edit", "ai"]
    assert [e["source_event_id"] for e in reversed(entries)] == [h["event0"], h["event1"], h["event2"], h["event3"]]
    prev = GENESIS
    for entry in reversed(entries):  # recomputed here, from what the API returns
        assert entry["prev_hash"] == prev
        assert entry["hash"] == entry_hash(prev, entry_body(entry))
        prev = entry["hash"]
    derive = entries[2]
    assert derive["actor"] == {"type": "tool", "id": "media_optimizer"}
    assert derive["inputs"] == [{"kind": "asset", "id": h["asset"], "sha256": sha("original")}]
    assert derive["params"] == {"widths": [320, 640], "format": "webp", "quality": 0.8}
    assert ledger.ok("/provenance/verify") == {"ok": True, "length": 4, "head": entries[0]["hash"],
                                               "first_bad": None, "reason": None}
    # Each append told the tenant's live clients (the realtime meta channel), in chain order.
    assert [(m["type"], m["data"]["seq"]) for m in _meta(ledger)] == [("provenance.appended", n) for n in (1, 2, 3, 4)]
    assert _meta(ledger)[-1]["data"]["hash"] == entries[0]["hash"]


def _meta(ledger: Ledger) -> list[dict[str, Any]]:
    """The tenant's messages on the realtime meta topic, as the local bus stored them."""
    with sqlite3.connect(ledger.platform.deps.settings.data_dir / "bus.db") as conn:
        rows = conn.execute("SELECT attributes, data FROM messages WHERE topic = ? ORDER BY rowid",
                            ("realtime.meta",)).fetchall()
    return [json.loads(data) for attributes, data in rows if json.loads(attributes).get("tenant") == ledger.tenant_id]


def test_entries_filter_by_subject_action_actor_and_time_and_page(ledger: Ledger) -> None:
    before = datetime.now(UTC).isoformat()
    h = _history(ledger)
    assert [e["action"] for e in ledger.entries(subject=h["asset"])] == ["edit", "derive", "upload"]
    assert [e["action"] for e in ledger.entries(action="derive")] == ["derive"]
    assert [e["action"] for e in ledger.entries(actor="muse")] == ["ai"]
    assert [e["action"] for e in ledger.entries(subject=h["asset"], action="upload", actor="u_test")] == ["upload"]
    assert len(ledger.entries(since=before)) == 4
    assert ledger.entries(until=before) == []
    middle = ledger.entries()[1]["time"]  # the edit's
    assert [e["action"] for e in ledger.entries(since=middle)] == ["ai", "edit"]
    assert [e["action"] for e in ledger.entries(until=middle)] == ["derive", "upload"]
    first = ledger.ok("/provenance/entries", limit=3)
    assert [e["seq"] for e in first["entries"]] == [4, 3, 2] and first["next_page_token"]
    rest = ledger.ok("/provenance/entries", limit=3, page_token=first["next_page_token"])
    assert [e["seq"] for e in rest["entries"]] == [1] and rest["next_page_token"] is None


def test_redelivered_and_provenance_free_events_append_nothing_more(ledger: Ledger) -> None:
    asset = new_id("as")
    ledger.send(record("upload", {"kind": "asset", "id": asset}), times=3)  # at-least-once: three copies
    ledger.send(None)  # an event without a provenance object is acknowledged and skipped
    ledger.platform.drain()
    [entry] = ledger.entries()
    assert entry["subject"] == {"kind": "asset", "id": asset}
    assert ledger.ok("/provenance/verify")["length"] == 1


def test_lineage_walks_up_down_and_both(ledger: Ledger) -> None:
    h = _history(ledger)
    other = new_id("as")
    ledger.send(record("upload", {"kind": "asset", "id": other}))
    render = new_id("ar")
    ledger.send(record("render", {"kind": "artifact", "id": render}, actor=("tool", "renderer"),
                       inputs=[ref("artifact", h["ai"], sha("ai")), ref("asset", other)],
                       outputs=[ref("artifact", render, sha("render"))]))
    ledger.platform.drain()

    up = ledger.ok(f"/provenance/lineage/{render}", direction="up")
    assert {n["id"] for n in up["nodes"]} == {render, h["ai"], h["v1"], h["asset"], other}
    assert {(e["from"], e["to"], e["action"]) for e in up["edges"]} == {
        (h["asset"], h["v1"], "derive"), (h["v1"], h["ai"], "ai"),
        (h["ai"], render, "render"), (other, render, "render")}
    assert next(n for n in up["nodes"] if n["id"] == h["v1"])["sha256"] == sha("v1")
    assert up["truncated"] is False

    down = ledger.ok(f"/provenance/lineage/{h['asset']}", direction="down")
    assert {n["id"] for n in down["nodes"]} == {h["asset"], h["v1"], h["v2"], h["ai"], render}
    assert other not in {n["id"] for n in down["nodes"]}

    both = ledger.ok(f"/provenance/lineage/{h['ai']}", direction="both")
    assert {n["id"] for n in both["nodes"]} == {h["asset"], h["v1"], h["ai"], render}  # not a co-input
    assert both["entries"] and all(isinstance(s, int) for s in both["entries"])
    assert ledger.ok(f"/provenance/lineage/{h['v2']}")["direction"] == "both"  # the default

    missing = ledger.get(f"/provenance/lineage/{new_id('ar')}")
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")


def _tamper(ledger: Ledger, seq: int, **changes: Any) -> None:
    doc = ledger.store_entry(seq)
    ledger.platform.deps.store.put(doc.path, {**doc.data, **changes})


@pytest.mark.parametrize(("change", "reason"), [
    ({"params": {"title": "Dog"}}, "hash_mismatch"),  # a body field rewritten
    ({"actor": {"type": "user", "id": "u_mallory"}}, "hash_mismatch"),
    ({"subject_id": "as_elsewhere"}, "index_mismatch"),  # a query field pointed elsewhere
    ({"prev_hash": "f" * 64}, "prev_hash_mismatch"),
])
def test_a_tampered_entry_is_named_by_verify(ledger: Ledger, change: dict[str, Any], reason: str) -> None:
    _history(ledger)
    good = ledger.entries()
    _tamper(ledger, 3, **change)
    report = ledger.ok("/provenance/verify")
    assert report == {"ok": False, "length": 2, "head": good[2]["hash"], "first_bad": 3, "reason": reason}


def test_a_rehashed_entry_breaks_its_successors_link(ledger: Ledger) -> None:
    _history(ledger)
    doc = ledger.store_entry(2)
    forged = {**doc.data, "params": {"widths": [4000]}}
    forged["hash"] = entry_hash(forged["prev_hash"], entry_body(forged))  # a careful forger rehashes
    ledger.platform.deps.store.put(doc.path, forged)
    report = ledger.ok("/provenance/verify")
    assert (report["ok"], report["first_bad"], report["reason"]) == (False, 3, "prev_hash_mismatch")


def test_removed_entries_are_named(ledger: Ledger) -> None:
    _history(ledger)
    store = ledger.platform.deps.store
    store.delete(ledger.store_entry(4).path)  # the newest, cut from the end: the head still names it
    assert ledger.ok("/provenance/verify") | {"head": None} == {
        "ok": False, "length": 3, "head": None, "first_bad": 4, "reason": "head_mismatch"}
    store.delete(ledger.store_entry(2).path)  # a gap in the middle
    assert (ledger.ok("/provenance/verify")["first_bad"], ledger.ok("/provenance/verify")["reason"]) == (2, "seq_gap")


def test_an_empty_ledger_verifies(ledger: Ledger) -> None:
    assert ledger.ok("/provenance/verify") == {"ok": True, "length": 0, "head": None, "first_bad": None,
                                               "reason": None}
    assert ledger.entries() == []


def _dead_letters(platform: RunningPlatform) -> list[Any]:
    return platform.deps.bus.dead_letters(WRITER_SUBSCRIPTION)


def _drain_until(platform: RunningPlatform, done: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "not done in time"
        platform.drain()
        time.sleep(0.05)


@pytest.mark.parametrize("bad", [
    {"action": "teleport"},  # not an action
    {"actor": {"type": "robot", "id": "r"}},
    {"subject": {"kind": "asset", "id": "../../etc"}},
    {"params": {"n": 2**60}},  # beyond what canonical JSON carries exactly
    {"inputs": [{"kind": "asset", "id": "a", "sha256": "not-a-hash"}]},
])
def test_a_malformed_record_is_dead_lettered_not_dropped(ledger: Ledger, bad: dict[str, Any]) -> None:
    before = len(_dead_letters(ledger.platform))
    event_id = ledger.send({**record("upload", {"kind": "asset", "id": new_id("as")}), **bad})
    _drain_until(ledger.platform, lambda: len(_dead_letters(ledger.platform)) > before)
    assert any(event_id.encode() in message.data for message, _ in _dead_letters(ledger.platform))
    assert ledger.entries() == []


def test_an_event_whose_attributes_name_another_tenant_is_refused(ledger: Ledger, client: httpx.Client) -> None:
    victim = new_tenant(client, new_user(client, "victim"))
    before = len(_dead_letters(ledger.platform))
    ledger.send(record("upload", {"kind": "asset", "id": new_id("as")}), tenant=victim)
    raw_publish(ledger.platform, {"id": "ev_x", "type": "media.x", "tenant_id": "t_../x", "env": "dev", "data": {
        "provenance": record("upload", {"kind": "asset", "id": "as_1"})}}, {"type": "media.x"})
    raw_publish(ledger.platform, {"id": "ev_y", "type": "media.x", "tenant_id": f"{ledger.tenant_id}/envs/dev/x",
                                  "env": "dev", "data": {"provenance": record("upload", {"kind": "asset", "id": "as_1"})}},
                {"type": "media.x"})
    raw_publish(ledger.platform, ["not", "an", "event"], {"type": "media.x"})
    _drain_until(ledger.platform, lambda: len(_dead_letters(ledger.platform)) >= before + 4)
    assert ledger.entries() == []


def test_tenants_see_only_their_own_ledger(ledger: Ledger, client: httpx.Client) -> None:
    h = _history(ledger)
    stranger = new_user(client, "stranger")
    theirs = Ledger(client, ledger.platform, new_tenant(client, stranger), stranger)
    assert theirs.entries() == [] and theirs.ok("/provenance/verify")["length"] == 0
    assert theirs.get(f"/provenance/lineage/{h['asset']}").status_code == 404
    # Their token, our tenant: not a member.
    crossed = client.get("/provenance/entries", headers=stranger.in_tenant(ledger.tenant_id))
    assert (crossed.status_code, crossed.json()["code"]) == (403, "NOT_A_MEMBER")
    assert client.get("/provenance/entries").status_code == 401


def test_viewers_read_the_ledger_but_members_verify_it(ledger: Ledger, client: httpx.Client) -> None:
    _history(ledger)
    viewer = new_user(client, "viewer")
    add_member(client, ledger.owner, ledger.tenant_id, viewer, "viewer")
    assert ledger.get("/provenance/entries", viewer).status_code == 200
    denied = ledger.get("/provenance/verify", viewer)
    assert (denied.status_code, denied.json()["code"]) == (403, "ROLE_INSUFFICIENT")


@pytest.mark.parametrize(("path", "params"), [
    ("/provenance/entries", {"limit": 0}),
    ("/provenance/entries", {"limit": 10**20}),
    ("/provenance/entries", {"limit": "NaN"}),
    ("/provenance/entries", {"since": "NaN"}),
    ("/provenance/entries", {"since": "2026-01-01T00:00:00"}),  # no offset
    ("/provenance/entries", {"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
    ("/provenance/entries", {"action": "teleport"}),
    ("/provenance/entries", {"subject": "x" * 500}),
    ("/provenance/entries", {"page_token": "!!!"}),
    ("/provenance/entries", {"page_token": "bm90IGpzb24"}),
    ("/provenance/entries", {"surprise": "1"}),
    ("/provenance/lineage/as_1", {"direction": "sideways"}),
    ("/provenance/lineage/" + "a" * 300, {}),
    ("/provenance/lineage/a%20b", {}),
    ("/provenance/c2pa/a%00b", {}),
])
def test_bad_queries_get_a_problem_never_a_500(ledger: Ledger, path: str, params: dict[str, Any]) -> None:
    resp = ledger.get(path, **params)
    assert resp.status_code in (400, 404), resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json()["code"] in ("VALIDATION_FAILED", "BAD_REQUEST", "NOT_FOUND")

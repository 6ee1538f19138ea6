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
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx

from studio import domains
from studio.provenance.ledger import append_entry
from studio.provenance.models import ProvenanceRecord
from tests.support.api import PASSWORD, User, add_member, invite, latest_token, new_tenant, new_user
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
    _nexus_state_changes(c, drain, h, thread["id"])
    assert c.delete(thread_url, headers={**h, "If-Match": "*"}).is_success  # chat.thread_deleted

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
    assert c.post("/events/datasets", json={"surface": "chat", "agentId": "a", "input": "x", "output": "y"},
                  headers=h).status_code == 202  # dataset_event.logged
    assert c.put("/privacy/training-prefs", json={"train_ok": True, "base_rev": 0},
                 headers=h).is_success  # privacy.training_prefs_changed
    assert c.put("/privacy/policy", json={"actions": {"EMAIL": "redact"}, "base_rev": 0},
                 headers=h).is_success  # privacy.policy_changed
    key_url = f"/tenants/{tenant}/keys/openai"
    assert c.put(key_url, json={"key": "sk-events-" + "a" * 30, "base_rev": 0}, headers=h).is_success  # byok.key_added
    assert c.put(key_url, json={"key": "sk-events-" + "b" * 30, "base_rev": 1}, headers=h).is_success  # byok.key_rotated
    assert c.delete(key_url, headers={**h, "If-Match": '"2"'}).status_code == 204  # byok.key_deleted
    assert c.put("/runtime-config", json={"embeddings": {"provider": "local"}, "base_rev": 0},
                 headers=h).is_success  # runtime_config.changed (runtime_config.used: the chat reply above)
    _governance_changes(c, owner, tenant)
    tool = {"version": "1.0.0", "title": "t", "description": "d", "input_schema": {"type": "object"},
            "output_schema": {"type": "object"}, "url": "https://tools.example.com/run", "base_rev": 0}
    assert c.put("/tools/acme.flow", json=tool, headers=h).is_success  # tools.tool_registered
    assert c.delete("/tools/acme.flow", headers={**h, "If-Match": '"1"'}).status_code == 204  # tools.tool_deleted
    assert c.post("/audits", json={"html": "<p>x</p>", "kinds": ["layout"], "breakpoints": [320]},
                  headers=h).status_code == 202  # audits.audit_requested (on audits.jobs)
    drain()  # the audit worker: audits.audit_started, audits.audit_finished
    assert c.patch("/compliance/eaa/shop/site", json={"service": {"service_name": "Shop"}, "base_rev": 0},
                   headers=h).is_success  # audits.eaa_site_updated
    _media_state_changes(c, drain, h, tenant)
    _video_state_changes(c, drain, h)
    with open("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "rb") as fh:  # fonts.font_registered
        assert c.post("/fonts", files={"file": ("f.ttf", fh.read(), "font/ttf")}, headers=h).status_code == 201
    font_key = c.post("/fonts/site-keys", headers=h)  # fonts.site_key_created
    assert font_key.status_code == 201
    assert c.post(f"/fonts/site-keys/{font_key.json()['id']}/revoke", headers=h).is_success  # fonts.site_key_revoked
    preset = c.post("/fonts/presets", json={"name": "Body", "family": "DejaVu Sans"}, headers=h)  # fonts.preset_created
    assert c.patch(f"/fonts/presets/{preset.json()['id']}", json={"weight": 500, "base_rev": 1},
                   headers=h).is_success  # fonts.preset_updated
    return tenant, {owner.user_id, member.user_id}


def _video_state_changes(c: httpx.Client, drain: Callable[[], object], h: dict[str, str]) -> None:
    from tests.support import media_samples

    r = c.post("/media-v2/assets", files={"file": ("v.mp4", media_samples.clip(1.0, 160, 120), "video/mp4")}, headers=h)
    assert r.status_code == 201, r.text
    drain()
    clip = {"id": "a", "source": r.json()["id"], "in": 0, "out": 1}
    tl = {"tracks": [{"id": "v", "kind": "video", "clips": [clip]}], "output": {"width": 160, "height": 120}}
    p = c.post("/video/projects", json={"name": "p"}, headers=h).json()  # video.project_created
    url = f"/video/projects/{p['id']}"
    assert c.patch(url, json={"timeline": tl, "base_rev": 1}, headers=h).is_success  # video.project_updated
    move = {"command_id": "cmd-video-events", "type": "timeline.move_clip", "base_rev": 2,
            "target": {"kind": "video_project", "id": p["id"]}, "payload": {"clip_id": "a", "start": 0.5}}
    assert c.post("/commands", json=move, headers=h).is_success  # video.timeline_edited
    job = c.post("/video/render", json={"project_id": p["id"], "rev": 3}, headers=h)  # video.render_requested
    assert job.status_code == 202, job.text
    drain()  # the render worker: video.render_started, video.render_finished
    again = c.post("/video/render", json={"project_id": p["id"], "rev": 3}, headers=h).json()
    assert c.post(f"/video/render/jobs/{again['id']}/cancel", headers=h).is_success  # video.render_cancelled
    drain()
    assert c.delete(url, headers={**h, "If-Match": '"3"'}).status_code == 204  # video.project_deleted
    proxy = c.get(f"/media-v2/assets/{clip['source']}/artifacts", headers=h).json()["artifacts"][0]["id"]
    window = {"audio_in": 0, "audio_out": 1, "video_source": clip["source"], "video_in": 0, "video_out": 1}
    assert c.post("/origin-snippets/from-audio", json={"audio_artifact_id": proxy, "windows": [window]},
                  headers=h).status_code == 201  # video.origin_snippets_linked


def _media_state_changes(c: httpx.Client, drain: Callable[[], object], h: dict[str, str], tenant: str) -> None:
    from tests.support import media_samples

    def upload(data: bytes, name: str) -> str:  # media.asset_created, then registered / failed / quarantined
        r = c.post("/media-v2/assets", files={"file": (name, data, "image/png")}, headers=h)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    asset = upload(media_samples.png(), "a.png")
    drain()  # the optimiser: media.artifact_created per variant, media.asset_ready
    upload(b"PK\x03\x04 an archive, not media", "b.png")  # media.asset_failed
    upload(media_samples.polyglot_png(), "c.png")  # media.asset_quarantined
    url = f"/media-v2/assets/{asset}"
    assert c.patch(url, json={"title": "t"}, headers={**h, "If-Match": "*"}).is_success  # media.asset_updated
    # A mask made elsewhere: its bytes go to the tenant's bucket the way clients upload, then it is
    # registered as the asset's artifact (media.artifact_registered).
    ticket = c.post("/media-v2/uploads", json={"filename": "m.png", "content_type": "image/png", "size_bytes": 10_000},
                    headers=h).json()
    assert httpx.put(ticket["upload_url"], content=media_samples.png(seed=5), headers=ticket["headers"]).is_success
    drain()
    mask = f"{tenant}/dev/assets/{ticket['asset_id']}"
    assert c.post(f"{url}/artifacts", json={"kind": "mask", "object_name": mask}, headers=h).status_code == 201
    os.environ["STUDIO_MEDIA_DELETE_GRACE_S"] = "0"  # purged at once: media.asset_purged
    try:
        assert c.delete(url, headers={**h, "If-Match": "*"}).is_success  # media.asset_deleted
        drain()
    finally:
        del os.environ["STUDIO_MEDIA_DELETE_GRACE_S"]


def _governance_changes(c: httpx.Client, owner: User, tenant: str) -> None:
    """Every governance state change; the chat reply above already recorded its usage (governance.usage_recorded)."""
    h = owner.in_tenant(tenant)
    lic = c.post("/firearms/licences", headers=h, json={"subject_type": "agent", "subject_id": "muse", "danger": "high",
                                                        "expires_at": "2999-01-01T00:00:00Z"}).json()  # licence_issued
    assert c.post(f"/firearms/licences/{lic['id']}/revoke", headers={**h, "If-Match": '"1"'}, json={}).is_success
    ks = c.post("/kill-switches", headers=h, json={"target_kind": "model", "target": "m", "reason": "r"}).json()
    assert c.delete(f"/kill-switches/{ks['id']}", headers={**h, "If-Match": '"1"'}).is_success  # kill_switch_removed
    assert c.put("/temperature/corridors/tenant", headers=h,
                 json={"floor": 0, "ceiling": 1, "default": 0.5, "base_rev": 0}).is_success  # corridor_set
    assert c.delete("/temperature/corridors/tenant", headers={**h, "If-Match": '"1"'}).is_success  # corridor_removed
    assert c.put("/budget/budgets/bud_x", headers=h, json={"provider": "openai-compatible", "period": "day",
                                                           "soft_usd": 0.0001, "hard_usd": 100, "base_rev": 0}).is_success
    assert c.post("/budget/usage", headers=h, json={"provider": "openai-compatible", "model": "gpt-4o-mini",
                                                    "input_tokens": 1000, "output_tokens": 1000}
                  ).status_code == 201  # usage_recorded, and budget.soft_limit_crossed on realtime.meta
    assert c.delete("/budget/budgets/bud_x", headers={**h, "If-Match": '"1"'}).is_success  # budget_removed
    assert c.put("/strategy-locks/tools", headers=h, json={"locked": True, "base_rev": 0}).is_success  # lock_set
    admin1, admin2 = new_user(c, "admin"), new_user(c, "admin")
    add_member(c, owner, tenant, admin1, "admin")
    add_member(c, owner, tenant, admin2, "admin")
    q = c.post("/three-wise/questions", headers=h, json={"required": 1, "command": {
        "command_id": "cmd-domain-events-1", "type": "governance.lock.set",
        "target": {"kind": "strategy_lock", "id": "tools"}, "base_rev": 1, "payload": {"locked": False}}}
    ).json()  # question_proposed
    assert c.post(f"/three-wise/questions/{q['id']}/votes", headers=admin1.in_tenant(tenant),
                  json={"verdict": "approve"}).json()["status"] == "applied"  # question_voted, question_decided


def _nexus_state_changes(c: httpx.Client, drain: Callable[[], object], h: dict[str, str], thread_id: str) -> None:
    doc = c.post("/nexus/raw", json={"title": "Guide", "format": "markdown", "content": "# Guide\n\nBe brief."},
                 headers=h).json()  # nexus.doc_submitted, nexus.ingest_requested
    drain()  # nexus.doc_ingested
    doc = c.get(f"/nexus/raw/{doc['id']}", headers=h).json()
    assert c.put(f"/nexus/raw/{doc['id']}", json={"content": "# Guide\n\nBe kind."},
                 headers={**h, "If-Match": f'"{doc["rev"]}"'}).is_success  # nexus.doc_replaced
    drain()
    doc = c.get(f"/nexus/raw/{doc['id']}", headers=h).json()
    assert c.delete(f"/nexus/raw/{doc['id']}", headers={**h, "If-Match": "*"}).is_success  # nexus.doc_deleted
    assert c.put("/nexus/settings/chunking", json={"max_tokens": 32, "overlap_tokens": 0, "base_rev": 0},
                 headers=h).is_success  # nexus.settings_changed
    words = " ".join(f"word{n}" for n in range(6000))
    c.post("/nexus/raw", json={"title": "Too long", "content": words}, headers=h)
    drain()  # more atoms than one ingest takes: nexus.doc_failed
    card = c.post("/nexus/cards", json={"title": "T", "body": "B"}, headers=h).json()  # nexus.card_created
    assert c.patch(f"/nexus/cards/{card['id']}", json={"body": "C", "base_rev": 1},
                   headers=h).is_success  # nexus.card_updated
    assert c.put("/nexus/settings/model", json={"model": "hashing-384", "base_rev": 0},
                 headers=h).is_success  # nexus.reembed_requested
    drain()  # nexus.reembed_finished
    assert c.delete(f"/nexus/cards/{card['id']}", headers={**h, "If-Match": "*"}).is_success  # nexus.card_deleted
    assert c.post("/memory/session/messages", json={"thread_id": thread_id, "text": "n"},
                  headers=h).is_success  # nexus.memory_noted
    assert c.put("/memory/blackboards/b", json={"content": {}, "base_rev": 0},
                 headers=h).is_success  # nexus.blackboard_written
    assert c.delete("/memory/blackboards/b", headers={**h, "If-Match": "*"}).is_success  # nexus.blackboard_deleted


def test_every_published_message_is_declared_and_every_declared_event_is_published(
        client: httpx.Client, platform: RunningPlatform) -> None:
    tenant, users = _every_state_change(client, platform.drain)
    # provenance.entry_appended: clients never write the ledger; producers' events do (through the
    # provenance writer) and so does code recording an action in process, as here.
    append_entry(platform.deps.store, tenant, "dev", ProvenanceRecord.model_validate(
        {"action": "upload", "actor": {"type": "system", "id": "flow"}, "subject": {"kind": "asset", "id": "as_flow"}}))
    platform.drain()
    published = _published(platform.deps.settings.data_dir, tenant, users)
    declared = {(kind, topic) for row in domains.DOMAINS for kind, topic in row.events.items()}
    meta = {topic for row in domains.DOMAINS for topic in row.topics}
    undeclared = {(kind, topic) for kind, topic in published if (kind, topic) not in declared and topic not in meta}
    assert not undeclared, f"declare these (event type, topic) in their domain's row of studio/domains.py: {undeclared}"
    assert declared <= published, f"declared but never emitted by the flow: {declared - published}"

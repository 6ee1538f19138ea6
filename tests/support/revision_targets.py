"""One TARGET per revisioned route: a factory that makes a real resource for it in a fresh tenant."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.support.api import add_member, new_user
from tests.support.revision_target import Target, etag_of, owner_and_tenant, tenant_and_headers


def _tenant_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    return Target(f"/tenants/{tenant}", {"name": "Renamed"}, 1, h, etag_of(f"/tenants/{tenant}", h),
                  "tenant.renamed")


def _member_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        owner, tenant = owner_and_tenant(client)
        member = add_member(client, owner, tenant, new_user(client, "rev-member"), "viewer")
        h = owner.in_tenant(tenant)

        def read(c: httpx.Client) -> int:
            members = c.get(f"/tenants/{tenant}/members", headers=h).json()["members"]
            return int(next(m["rev"] for m in members if m["user_id"] == member["user_id"]))

        return Target(f"/tenants/{tenant}/members/{member['user_id']}", body, member["rev"], h, read, event)

    return make


def _thread_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        thread = client.post("/chat/threads", json={"title": "Before"}, headers=h).json()
        url = f"/chat/threads/{thread['id']}"
        return Target(url, body, thread["rev"], h, etag_of(url, h), event)

    return make


def _asset_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        # Bytes no optimiser takes (failed: unsupported, at once): no background job moves the rev meanwhile.
        asset = client.post("/media-v2/assets", files={"file": ("a.zip", b"PK\x03\x04 x", "image/png")}, headers=h).json()
        url = f"/media-v2/assets/{asset['id']}"
        return Target(url, body, asset["rev"], h, etag_of(url, h), event)

    return make


def _training_prefs_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    return Target("/privacy/training-prefs", {"train_ok": True}, 0, h, etag_of("/privacy/training-prefs", h),
                  "privacy.training_prefs_changed")


def _privacy_policy_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    return Target("/privacy/policy", {"actions": {"EMAIL": "redact"}}, 0, h, etag_of("/privacy/policy", h),
                  "privacy.policy_changed")


def _listed(url: str, key: str, field: str, value: str, headers: dict[str, str]) -> Callable[[httpx.Client], int]:
    """The rev of one item of a governance list (0: not there yet, as an upsert reads it)."""
    def read(client: httpx.Client) -> int:
        items = client.get(url, headers=headers).json()[key]
        return int(next((i["rev"] for i in items if i[field] == value), 0))

    return read


def _licence_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    lic = client.post("/firearms/licences", headers=h, json={"subject_type": "agent", "subject_id": "muse",
                                                             "danger": "low", "expires_at": "2999-01-01T00:00:00Z"}).json()
    return Target(f"/firearms/licences/{lic['id']}/revoke", {}, 1, h,
                  _listed("/firearms/licences", "licences", "id", lic["id"], h), "governance.licence_revoked")


def _switch_target(body: dict[str, Any] | None, event: str, *, platform: bool = False) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        if platform:
            from studio.bootstrap import bootstrap  # the running platform's own instance
            from tests.support.governance import system_headers_for
            h = system_headers_for(bootstrap(), tenant)
        switch = client.post("/kill-switches", headers=h, json={"target_kind": "model", "target": "m-rev",
                                                                "reason": "revisions", "platform": platform}).json()
        url = f"/kill-switches/platform/{switch['id']}" if platform else f"/kill-switches/{switch['id']}"
        return Target(url, body, 1, h, _listed("/kill-switches", "platform" if platform else "switches", "id",
                                               switch["id"], h), event)

    return make


def _upserted_target(url: str, list_url: str, key: str, field: str, value: str, body: dict[str, Any],
                     event: str, *, delete: bool = False) -> Callable[[httpx.Client], Target]:
    """A resource written with PUT (base_rev 0 creates it); a DELETE target is created first."""
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        rev = 0
        if delete:
            assert client.put(url, headers=h, json={**body, "base_rev": 0}).status_code == 200
            rev = 1
        return Target(url, None if delete else body, rev, h, _listed(list_url, key, field, value, h), event)

    return make


def _upserted_pair(route: str, url: str, list_url: str, key: str, field: str, value: str, body: dict[str, Any],
                   set_event: str, removed_event: str) -> dict[tuple[str, str], Callable[[httpx.Client], Target]]:
    """The PUT that writes an upserted resource and the DELETE that removes it, at the same ``route``."""
    return {("PUT", route): _upserted_target(url, list_url, key, field, value, body, set_event),
            ("DELETE", route): _upserted_target(url, list_url, key, field, value, body, removed_event, delete=True)}


_CORRIDOR = {"floor": 0.1, "ceiling": 0.9, "default": 0.5}
_BUDGET = {"provider": "*", "period": "month", "soft_usd": 1.0, "hard_usd": 2.0}
_HTTP_TOOL = {"version": "1.0.0", "title": "Rev", "description": "A tenant tool", "input_schema": {"type": "object"},
              "output_schema": {"type": "object"}, "url": "https://tools.example.com/run"}


def _key_rev(tenant: str, headers: dict[str, str]) -> Callable[[httpx.Client], int]:
    def read(client: httpx.Client) -> int:
        keys = client.get(f"/tenants/{tenant}/keys", headers=headers).json()["keys"]
        return next((int(k["rev"]) for k in keys if k["provider"] == "openai"), 0)

    return read


def _byok_put_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    return Target(f"/tenants/{tenant}/keys/openai", {"key": "sk-revisioned-" + "k" * 24}, 0, h, _key_rev(tenant, h),
                  "byok.key_added")


def _byok_delete_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    added = client.put(f"/tenants/{tenant}/keys/openai", json={"key": "sk-revisioned-" + "k" * 24, "base_rev": 0},
                       headers=h)
    assert added.status_code == 200, added.text
    return Target(f"/tenants/{tenant}/keys/openai", None, 1, h, _key_rev(tenant, h), "byok.key_deleted")


def _runtime_config_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    return Target("/runtime-config", {"embeddings": {"provider": "local"}}, 0, h, etag_of("/runtime-config", h),
                  "runtime_config.changed")


def _nexus_doc_target(body: dict[str, Any] | None, event: str,
                      follow_ups: tuple[str, ...] = ()) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        doc = client.post("/nexus/raw", json={"title": "Doc", "content": "Before."}, headers=h).json()
        url = f"/nexus/raw/{doc['id']}"
        return Target(url, body, doc["rev"], h, etag_of(url, h), event, follow_ups)

    return make


def _nexus_card_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        card = client.post("/nexus/cards", json={"title": "Card", "body": "Before."}, headers=h).json()
        url = f"/nexus/cards/{card['id']}"
        return Target(url, body, card["rev"], h, etag_of(url, h), event)

    return make


def _nexus_settings_target(section: str, body: dict[str, Any]) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)

        def read(c: httpx.Client) -> int:
            return int(c.get("/nexus/settings", headers=h).json()[section]["rev"])

        # a new model is applied by the ingest worker, which reports the rebuilt index when done
        later = ("nexus.reembed_finished",) if section == "model" else ()
        return Target(f"/nexus/settings/{section}", body, 0, h, read, "nexus.settings_changed", later)

    return make


def _blackboard_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        url = "/memory/blackboards/plan"
        board = client.put(url, json={"content": {"v": 0}, "base_rev": 0}, headers=h).json()
        return Target(url, body, board["rev"], h, etag_of(url, h), event)

    return make


def _experiment_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    exp = client.post("/experiments", json={"key": "rev-exp", "variations": [{"key": "a"}, {"key": "b"}]},
                      headers=h).json()
    url = f"/experiments/{exp['id']}"
    return Target(url, {"coverage": 0.5}, exp["rev"], h, etag_of(url, h), "experiments.experiment_updated")


def _flag_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    flag = client.post("/flags", json={"key": "rev-flag", "default_value": True}, headers=h).json()
    return Target("/flags/rev-flag", {"default_value": False}, flag["rev"], h, etag_of("/flags/rev-flag", h),
                  "experiments.flag_updated")


def _analytics_target(create: str, body_in: dict[str, Any], body: dict[str, Any] | None,
                      event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        made = client.post(create, json=body_in, headers=h)
        assert made.status_code == 201, made.text
        url = f"{create}/{made.json()['id']}"
        read = etag_of(url, h) if not create.endswith("/rules") else _rule_rev(url, h)
        return Target(url, body, made.json()["rev"], h, read, event)

    return make


def _rule_rev(url: str, headers: dict[str, str]) -> Callable[[httpx.Client], int]:
    def read(client: httpx.Client) -> int:  # rules are read in their listing
        rules = client.get("/personalization/rules", headers=headers).json()["rules"]
        return int(next(r["rev"] for r in rules if url.endswith(r["id"])))

    return read


_SIGNAL = {"name": "views", "type": "number", "source": {"event_type": "pageview"}, "aggregation": "count"}
_RULE = {"slot": "hero", "segment": {"signals.views": {"$gte": 1}}, "variant": "returning"}
_PAGE = {"path": "/pricing", "title": "Pricing"}


def _seo_target(at_path: bool) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        made = client.put("/seo/pages/web/pricing", json={**_PAGE, "base_rev": 0}, headers=h)
        assert made.status_code == 200, made.text
        body = {**_PAGE, "title": "New"} if at_path else {**_PAGE, "surface": "web", "page_type": "pricing"}
        url = "/seo/pages/web/pricing" if at_path else "/seo/pages"
        return Target(url, body, 1, h, etag_of("/seo/pages/web/pricing", h), "analytics.seo_page_saved")

    return make


def _eaa_site_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    url = "/compliance/eaa/shop/site"
    return Target(url, {"service": {"service_name": "Shop"}}, 0, h, etag_of(url, h), "audits.eaa_site_updated")


def _video_project_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        tenant, h = tenant_and_headers(client)
        made = client.post("/video/projects", json={"name": "Cut"}, headers=h)
        assert made.status_code == 201, made.text
        url = f"/video/projects/{made.json()['id']}"
        return Target(url, body, made.json()["rev"], h, etag_of(url, h), event)

    return make


def _font_preset_target(client: httpx.Client) -> Target:
    tenant, h = tenant_and_headers(client)
    made = client.post("/fonts/presets", json={"name": "Body", "family": "Inter"}, headers=h)
    assert made.status_code == 201, made.text
    url = f"/fonts/presets/{made.json()['id']}"
    return Target(url, {"weight": 600}, made.json()["rev"], h, etag_of(url, h), "fonts.preset_updated")


TARGETS: dict[tuple[str, str], Callable[[httpx.Client], Target]] = {
    ("PATCH", "/fonts/presets/{preset_id}"): _font_preset_target,
    ("PATCH", "/video/projects/{project_id}"): _video_project_target({"name": "Cut 2"}, "video.project_updated"),
    ("DELETE", "/video/projects/{project_id}"): _video_project_target(None, "video.project_deleted"),
    ("PATCH", "/experiments/{experiment_id}"): _experiment_target,
    ("PATCH", "/flags/{flag_key}"): _flag_target,
    ("PATCH", "/compliance/eaa/{site_id}/site"): _eaa_site_target,
    ("PATCH", "/sites/{site_id}"): _analytics_target("/sites", {"name": "Shop"}, {"name": "Shop 2"},
                                                     "analytics.site_updated"),
    ("PATCH", "/signals/{signal_id}"): _analytics_target("/signals", _SIGNAL, {"window": "7d"},
                                                         "analytics.signal_updated"),
    ("DELETE", "/signals/{signal_id}"): _analytics_target("/signals", _SIGNAL, None, "analytics.signal_deleted"),
    ("PATCH", "/personalization/rules/{rule_id}"): _analytics_target("/personalization/rules", _RULE,
                                                                     {"variant": "loyal"}, "analytics.rule_updated"),
    ("DELETE", "/personalization/rules/{rule_id}"): _analytics_target("/personalization/rules", _RULE, None,
                                                                      "analytics.rule_deleted"),
    ("PUT", "/seo/pages"): _seo_target(at_path=False),
    ("PUT", "/seo/pages/{surface}/{page_type}"): _seo_target(at_path=True),
    **_upserted_pair("/tools/{name}", "/tools/acme.rev", "/tools", "tools", "name", "acme.rev", _HTTP_TOOL,
                     "tools.tool_registered", "tools.tool_deleted"),
    ("POST", "/firearms/licences/{licence_id}/revoke"): _licence_target,
    ("PATCH", "/kill-switches/{switch_id}"): _switch_target({"active": False}, "governance.kill_switch_set"),
    ("PUT", "/nexus/raw/{doc_id}"): _nexus_doc_target({"content": "After."}, "nexus.doc_replaced",
                                                             ("nexus.doc_ingested",)),  # the worker re-ingests it
    ("DELETE", "/nexus/raw/{doc_id}"): _nexus_doc_target(None, "nexus.doc_deleted"),
    ("PATCH", "/nexus/cards/{card_id}"): _nexus_card_target({"body": "After."}, "nexus.card_updated"),
    ("DELETE", "/nexus/cards/{card_id}"): _nexus_card_target(None, "nexus.card_deleted"),
    ("PUT", "/nexus/settings/chunking"): _nexus_settings_target("chunking", {"max_tokens": 100, "overlap_tokens": 10}),
    ("PUT", "/nexus/settings/hybrid"): _nexus_settings_target("hybrid", {"keyword_weight": 1, "vector_weight": 2}),
    ("PUT", "/nexus/settings/model"): _nexus_settings_target("model", {"model": "hashing-384"}),
    ("PUT", "/memory/blackboards/{key}"): _blackboard_target({"content": {"v": 1}}, "nexus.blackboard_written"),
    ("DELETE", "/memory/blackboards/{key}"): _blackboard_target(None, "nexus.blackboard_deleted"),
    ("DELETE", "/kill-switches/{switch_id}"): _switch_target(None, "governance.kill_switch_removed"),
    ("DELETE", "/kill-switches/platform/{switch_id}"): _switch_target(None, "governance.kill_switch_removed",
                                                                      platform=True),
    ("PUT", "/strategy-locks/{scope}"): _upserted_target(
        "/strategy-locks/budgets", "/strategy-locks", "locks", "scope", "budgets", {"locked": True},
        "governance.lock_set"),
    **_upserted_pair("/temperature/corridors/tenant", "/temperature/corridors/tenant", "/temperature/corridors",
                     "corridors", "id", "tenant", _CORRIDOR, "governance.corridor_set", "governance.corridor_removed"),
    **_upserted_pair("/temperature/corridors/agents/{agent_id}", "/temperature/corridors/agents/muse",
                     "/temperature/corridors", "corridors", "id", "agent.muse", _CORRIDOR, "governance.corridor_set",
                     "governance.corridor_removed"),
    **_upserted_pair("/budget/budgets/{budget_id}", "/budget/budgets/bud_rev", "/budget/budgets", "budgets", "id",
                     "bud_rev", _BUDGET, "governance.budget_set", "governance.budget_removed"),
    ("PATCH", "/tenants/{tenant_id}"): _tenant_target,
    ("PATCH", "/tenants/{tenant_id}/members/{user_id}"): _member_target({"role": "member"}, "member.role_changed"),
    ("DELETE", "/tenants/{tenant_id}/members/{user_id}"): _member_target(None, "member.removed"),
    ("PATCH", "/chat/threads/{thread_id}"): _thread_target({"title": "After"}, "chat.thread_renamed"),
    ("DELETE", "/chat/threads/{thread_id}"): _thread_target(None, "chat.thread_deleted"),
    ("PUT", "/privacy/training-prefs"): _training_prefs_target,
    ("PATCH", "/media-v2/assets/{asset_id}"): _asset_target({"title": "After"}, "media.asset_updated"),
    ("DELETE", "/media-v2/assets/{asset_id}"): _asset_target(None, "media.asset_deleted"),
    ("PUT", "/privacy/policy"): _privacy_policy_target,
    ("PUT", "/tenants/{tenant_id}/keys/{provider}"): _byok_put_target,
    ("DELETE", "/tenants/{tenant_id}/keys/{provider}"): _byok_delete_target,
    ("PUT", "/runtime-config"): _runtime_config_target,
}

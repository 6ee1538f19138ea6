"""Every revisioned route, enumerated from the route tables of every function in the manifest:
428 without a precondition, 412 on a stale or weak If-Match, 409 on a stale base_rev, each with
the resource left as it was and no event emitted; then success with the revision its GET shows,
which emits the route's domain event exactly once.

A new PATCH, PUT or DELETE route fails here until it is revisioned (or listed as an exception
with its reason) and has a TARGET below that makes a real resource for it. A revisioned route
without a ``current_rev`` resolver or without ``base_rev`` fails earlier, at declaration.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.routing import Route
from tests.support.api import User, add_member, new_tenant, new_user
from tests.support.bus_tap import EventTap
from tests.support.platform import RunningPlatform

ROUTES = [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]
REVISIONED = [r for r in ROUTES if r.revisioned]
WRITES = ("PATCH", "PUT", "DELETE")
NOT_REVISIONED_WRITES: dict[tuple[str, str], str] = {  # (method, path) -> why it may write blindly
    ("DELETE", "/tenants/{tenant_id}/invitations/{invitation_id}"):
        "an invitation is never edited, only accepted or revoked once: revoking is a one-way transition "
        "checked in its transaction (INVITATION_NOT_PENDING), so there is no edit it could overwrite",
    ("DELETE", "/sites/{site_id}/keys/{key_id}"):
        "a write key is never edited, only revoked once: revoking a revoked key changes nothing, so there is "
        "no edit it could overwrite",
}


@dataclass
class Target:
    """One real resource a revisioned route writes, seen by a caller allowed to write it."""

    url: str  # the route's URL
    body: dict[str, Any] | None  # a valid body without base_rev (None: the route takes none)
    rev: int
    headers: dict[str, str]
    read_rev: Callable[[httpx.Client], int]  # the revision a client reads now
    event: str  # the domain event its successful write emits, once

    @property
    def tenant(self) -> str:
        return self.headers["X-Tenant-Id"]


def _tenant(client: httpx.Client) -> tuple[User, str]:
    owner = new_user(client, "rev-owner")
    return owner, new_tenant(client, owner, "Revisions")


def _etag_of(url: str, headers: dict[str, str]) -> Callable[[httpx.Client], int]:
    def read(client: httpx.Client) -> int:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] == f'"{r.json()["rev"]}"'
        return int(r.json()["rev"])

    return read


def _tenant_target(client: httpx.Client) -> Target:
    owner, tenant = _tenant(client)
    h = owner.in_tenant(tenant)
    return Target(f"/tenants/{tenant}", {"name": "Renamed"}, 1, h, _etag_of(f"/tenants/{tenant}", h),
                  "tenant.renamed")


def _member_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        owner, tenant = _tenant(client)
        member = add_member(client, owner, tenant, new_user(client, "rev-member"), "viewer")
        h = owner.in_tenant(tenant)

        def read(c: httpx.Client) -> int:
            members = c.get(f"/tenants/{tenant}/members", headers=h).json()["members"]
            return int(next(m["rev"] for m in members if m["user_id"] == member["user_id"]))

        return Target(f"/tenants/{tenant}/members/{member['user_id']}", body, member["rev"], h, read, event)

    return make


def _thread_target(body: dict[str, Any] | None, event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        owner, tenant = _tenant(client)
        h = owner.in_tenant(tenant)
        thread = client.post("/chat/threads", json={"title": "Before"}, headers=h).json()
        url = f"/chat/threads/{thread['id']}"
        return Target(url, body, thread["rev"], h, _etag_of(url, h), event)

    return make


def _training_prefs_target(client: httpx.Client) -> Target:
    owner, tenant = _tenant(client)
    h = owner.in_tenant(tenant)
    return Target("/privacy/training-prefs", {"train_ok": True}, 0, h, _etag_of("/privacy/training-prefs", h),
                  "privacy.training_prefs_changed")


def _experiment_target(client: httpx.Client) -> Target:
    owner, tenant = _tenant(client)
    h = owner.in_tenant(tenant)
    exp = client.post("/experiments", json={"key": "rev-exp", "variations": [{"key": "a"}, {"key": "b"}]},
                      headers=h).json()
    url = f"/experiments/{exp['id']}"
    return Target(url, {"coverage": 0.5}, exp["rev"], h, _etag_of(url, h), "experiments.experiment_updated")


def _flag_target(client: httpx.Client) -> Target:
    owner, tenant = _tenant(client)
    h = owner.in_tenant(tenant)
    flag = client.post("/flags", json={"key": "rev-flag", "default_value": True}, headers=h).json()
    return Target("/flags/rev-flag", {"default_value": False}, flag["rev"], h, _etag_of("/flags/rev-flag", h),
                  "experiments.flag_updated")


def _analytics_target(create: str, body_in: dict[str, Any], body: dict[str, Any] | None,
                      event: str) -> Callable[[httpx.Client], Target]:
    def make(client: httpx.Client) -> Target:
        owner, tenant = _tenant(client)
        h = owner.in_tenant(tenant)
        made = client.post(create, json=body_in, headers=h)
        assert made.status_code == 201, made.text
        url = f"{create}/{made.json()['id']}"
        read = _etag_of(url, h) if not create.endswith("/rules") else _rule_rev(url, h)
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
        owner, tenant = _tenant(client)
        h = owner.in_tenant(tenant)
        made = client.put("/seo/pages/web/pricing", json={**_PAGE, "base_rev": 0}, headers=h)
        assert made.status_code == 200, made.text
        body = {**_PAGE, "title": "New"} if at_path else {**_PAGE, "surface": "web", "page_type": "pricing"}
        url = "/seo/pages/web/pricing" if at_path else "/seo/pages"
        return Target(url, body, 1, h, _etag_of("/seo/pages/web/pricing", h), "analytics.seo_page_saved")

    return make


TARGETS: dict[tuple[str, str], Callable[[httpx.Client], Target]] = {
    ("PATCH", "/experiments/{experiment_id}"): _experiment_target,
    ("PATCH", "/flags/{flag_key}"): _flag_target,
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
    ("PATCH", "/tenants/{tenant_id}"): _tenant_target,
    ("PATCH", "/tenants/{tenant_id}/members/{user_id}"): _member_target({"role": "member"}, "member.role_changed"),
    ("DELETE", "/tenants/{tenant_id}/members/{user_id}"): _member_target(None, "member.removed"),
    ("PATCH", "/chat/threads/{thread_id}"): _thread_target({"title": "After"}, "chat.thread_renamed"),
    ("DELETE", "/chat/threads/{thread_id}"): _thread_target(None, "chat.thread_deleted"),
    ("PUT", "/privacy/training-prefs"): _training_prefs_target,
}


def _id(route: Route) -> str:
    return f"{route.method} {route.path}"


def test_every_write_route_is_revisioned() -> None:
    blind = {(r.method, r.path) for r in ROUTES if r.method in WRITES and not r.revisioned}
    assert blind <= set(NOT_REVISIONED_WRITES), f"declare these revisioned=True with current_rev=: {sorted(blind)}"


def test_every_revisioned_route_has_a_target_here() -> None:
    assert REVISIONED, "found no revisioned route: the enumeration is broken"
    missing = sorted({(r.method, r.path) for r in REVISIONED} - set(TARGETS))
    assert not missing, f"add a TARGET for {missing}"


def _send(client: httpx.Client, route: Route, target: Target, *, base_rev: int | None = None,
          if_match: str | None = None) -> httpx.Response:
    headers = dict(target.headers)
    if if_match is not None:
        headers["If-Match"] = if_match
    body = None if target.body is None else dict(target.body)
    params = {}
    if base_rev is not None:
        if body is None:
            params["base_rev"] = str(base_rev)  # a DELETE states it in its query
        else:
            body["base_rev"] = base_rev
    return client.request(route.method, target.url, json=body, params=params, headers=headers)


def _unchanged(client: httpx.Client, target: Target) -> None:
    assert target.read_rev(client) == target.rev


def _conflict(r: httpx.Response, status: int, rev: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert (r.json()["code"], r.json()["current_rev"]) == ("REVISION_CONFLICT", rev)


@pytest.mark.parametrize("route", REVISIONED, ids=[_id(r) for r in REVISIONED])
def test_revisioned_route_enforces_its_precondition(client: httpx.Client, platform: RunningPlatform,
                                                    route: Route) -> None:
    target = TARGETS[(route.method, route.path)](client)
    _unchanged(client, target)
    tap = EventTap(platform, "domain." + target.event.split(".", 1)[0])

    missing = _send(client, route, target)
    assert missing.status_code == 428, missing.text
    assert missing.json()["code"] == "PRECONDITION_REQUIRED"
    _unchanged(client, target)

    _conflict(_send(client, route, target, if_match=f'"{target.rev + 7}"'), 412, target.rev)
    _conflict(_send(client, route, target, if_match=f'W/"{target.rev}"'), 412, target.rev)  # weak never matches
    _conflict(_send(client, route, target, base_rev=target.rev + 7), 409, target.rev)
    _unchanged(client, target)

    done = _send(client, route, target, if_match=f'"{target.rev + 7}", "{target.rev}"')
    assert done.status_code in (200, 204), done.text
    if done.status_code == 200:
        assert done.json()["rev"] == target.rev + 1 and done.headers["ETag"] == f'"{target.rev + 1}"'
    replay = _send(client, route, target, base_rev=target.rev)  # the same write again is now stale
    assert replay.status_code in (404, 409), replay.text
    emitted = [e["type"] for e in tap.events(target.tenant)]
    assert emitted == [target.event], "refused writes emit nothing; the one that succeeded emits once"


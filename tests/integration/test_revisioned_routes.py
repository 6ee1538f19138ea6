"""Every revisioned route, enumerated from the route tables of every function in the manifest:
428 without a precondition, 412 on a stale or weak If-Match, 409 on a stale base_rev, each with
the resource left as it was and no event emitted; then success with the revision its GET shows,
which emits the route's domain event exactly once.

A new PATCH, PUT or DELETE route fails here until it is revisioned (or listed as an exception
with its reason) and has a TARGET in tests/support/revision_targets.py that makes a real resource for it. A revisioned route
without a ``current_rev`` resolver or without ``base_rev`` fails earlier, at declaration.
"""
from __future__ import annotations

import httpx
import pytest

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.routing import Route
from tests.support.bus_tap import EventTap
from tests.support.platform import RunningPlatform
from tests.support.revision_target import Target
from tests.support.revision_targets import TARGETS

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
    assert emitted == [target.event, *target.follow_ups], "refused writes emit nothing; the one that succeeded emits once"


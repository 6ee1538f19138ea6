"""A revisioned route's target: one real resource it writes, and how a client reads its revision
(tests/integration/test_revisioned_routes.py drives every TARGET in tests/support/revision_targets.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.api import User, new_tenant, new_user


@dataclass
class Target:
    """One real resource a revisioned route writes, seen by a caller allowed to write it."""

    url: str  # the route's URL
    body: dict[str, Any] | None  # a valid body without base_rev (None: the route takes none)
    rev: int
    headers: dict[str, str]
    read_rev: Callable[[httpx.Client], int]  # the revision a client reads now
    event: str  # the domain event its successful write emits, once
    follow_ups: tuple[str, ...] = ()  # events the work it queued emits afterwards (a worker's), once each

    @property
    def tenant(self) -> str:
        return self.headers["X-Tenant-Id"]


def owner_and_tenant(client: httpx.Client) -> tuple[User, str]:
    owner = new_user(client, "rev-owner")
    return owner, new_tenant(client, owner, "Revisions")


def tenant_and_headers(client: httpx.Client) -> tuple[str, dict[str, str]]:
    """A fresh tenant and its owner's headers in it (what most targets need of the owner)."""
    owner, tenant = owner_and_tenant(client)
    return tenant, owner.in_tenant(tenant)


def etag_of(url: str, headers: dict[str, str]) -> Callable[[httpx.Client], int]:
    def read(client: httpx.Client) -> int:
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["ETag"] == f'"{r.json()["rev"]}"'
        return int(r.json()["rev"])

    return read

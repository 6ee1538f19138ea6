"""Revisions (AIP-154): ETag, If-Match, base_rev, 412/409/428, and no lost update under load."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.api import User


def test_get_carries_rev_and_etag(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.get(f"/tenants/{tenant}", headers=owner.in_tenant(tenant))
    assert r.json()["rev"] == 1 and r.headers["etag"] == '"1"'


def test_no_precondition_is_428(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.patch(f"/tenants/{tenant}", json={"name": "x"}, headers=owner.in_tenant(tenant))
    assert r.status_code == 428 and r.json()["code"] == "PRECONDITION_REQUIRED"


def test_stale_if_match_is_412_with_current_rev(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    ok = client.patch(f"/tenants/{tenant}", json={"name": "one"}, headers={**h, "If-Match": '"1"'})
    assert ok.status_code == 200 and ok.json()["rev"] == 2 and ok.headers["etag"] == '"2"'
    stale = client.patch(f"/tenants/{tenant}", json={"name": "two"}, headers={**h, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "REVISION_CONFLICT" and stale.json()["current_rev"] == 2
    assert client.get(f"/tenants/{tenant}", headers=h).json()["name"] == "one"


def test_stale_base_rev_is_409(client: httpx.Client, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    assert client.patch(f"/tenants/{tenant}", json={"name": "a", "base_rev": 1}, headers=h).status_code == 200
    stale = client.patch(f"/tenants/{tenant}", json={"name": "b", "base_rev": 1}, headers=h)
    assert stale.status_code == 409 and stale.json()["current_rev"] == 2


def test_malformed_if_match_is_400(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.patch(f"/tenants/{tenant}", json={"name": "x"}, headers={**owner.in_tenant(tenant), "If-Match": "abc"})
    assert r.status_code == 400 and r.json()["code"] == "INVALID_PRECONDITION"


def test_twenty_concurrent_writers_each_win_exactly_one_revision(platform: object, owner: User, tenant: str) -> None:
    writers = 20
    won: dict[int, str] = {}
    lock = threading.Lock()
    conflicts = [0]
    start = threading.Barrier(writers)

    def writer(i: int) -> None:
        name = f"writer-{i}"
        with httpx.Client(base_url=platform.base_url, timeout=30) as c:  # type: ignore[attr-defined]
            h = owner.in_tenant(tenant)
            start.wait()
            while True:
                current = c.get(f"/tenants/{tenant}", headers=h)
                assert current.status_code == 200, current.text
                rev = current.json()["rev"]
                r = c.patch(f"/tenants/{tenant}", json={"name": name, "base_rev": rev}, headers=h)
                if r.status_code == 200:
                    with lock:
                        assert r.json()["rev"] not in won, "a revision was won twice"
                        won[r.json()["rev"]] = name
                    return
                assert r.status_code == 409, r.text
                with lock:
                    conflicts[0] += 1

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    assert sorted(won) == list(range(2, 2 + writers))  # every revision won exactly once
    assert sorted(won.values()) == sorted(f"writer-{i}" for i in range(writers))  # nobody's write lost
    with httpx.Client(base_url=platform.base_url) as c:  # type: ignore[attr-defined]
        final = c.get(f"/tenants/{tenant}", headers=owner.in_tenant(tenant)).json()
    assert final["rev"] == 1 + writers and final["name"] == won[1 + writers]

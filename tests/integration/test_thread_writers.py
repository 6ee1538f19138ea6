"""Renaming a thread, like deleting it, takes its author or an admin; other members only post to it.
The refusal comes before any revision check, so a stranger learns nothing from 412 vs 200."""
from __future__ import annotations

import httpx
import pytest

from tests.support.api import User, add_member, new_user


def _thread(client: httpx.Client, author: User, tenant: str) -> dict:
    r = client.post("/chat/threads", json={"title": "Mine"}, headers=author.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize("if_match", ['"1"', '"9"', "*"])
def test_another_member_may_not_rename_or_delete(client: httpx.Client, owner: User, tenant: str, if_match: str) -> None:
    author, other = new_user(client, "author"), new_user(client, "other")
    add_member(client, owner, tenant, author, "member")
    add_member(client, owner, tenant, other, "member")
    thread = _thread(client, author, tenant)
    url = f"/chat/threads/{thread['id']}"
    headers = {**other.in_tenant(tenant), "If-Match": if_match}
    renamed = client.patch(url, json={"title": "Hijacked"}, headers=headers)
    assert (renamed.status_code, renamed.json()["code"]) == (403, "ROLE_INSUFFICIENT")
    deleted = client.delete(url, headers=headers)
    assert (deleted.status_code, deleted.json()["code"]) == (403, "ROLE_INSUFFICIENT")
    after = client.get(url, headers=author.in_tenant(tenant)).json()
    assert (after["title"], after["rev"]) == ("Mine", 1)
    posted = client.post(f"{url}/messages", json={"text": "still welcome here"}, headers=other.in_tenant(tenant))
    assert posted.status_code == 201


def test_the_author_and_an_admin_may_rename(client: httpx.Client, owner: User, tenant: str) -> None:
    author, admin = new_user(client, "author"), new_user(client, "admin")
    add_member(client, owner, tenant, author, "member")
    add_member(client, owner, tenant, admin, "admin")
    thread = _thread(client, author, tenant)
    url = f"/chat/threads/{thread['id']}"
    by_author = client.patch(url, json={"title": "Renamed by author"}, headers={**author.in_tenant(tenant),
                                                                                 "If-Match": '"1"'})
    assert by_author.status_code == 200 and by_author.json()["rev"] == 2
    by_admin = client.patch(url, json={"title": "Renamed by admin", "base_rev": 2}, headers=admin.in_tenant(tenant))
    assert by_admin.status_code == 200 and by_admin.json()["title"] == "Renamed by admin"


def test_a_viewer_may_not_rename(client: httpx.Client, owner: User, tenant: str) -> None:
    viewer = new_user(client, "viewer")
    add_member(client, owner, tenant, viewer, "viewer")
    thread = _thread(client, owner, tenant)
    r = client.patch(f"/chat/threads/{thread['id']}", json={"title": "x"},
                     headers={**viewer.in_tenant(tenant), "If-Match": '"1"'})
    assert (r.status_code, r.json()["code"]) == (403, "ROLE_INSUFFICIENT")

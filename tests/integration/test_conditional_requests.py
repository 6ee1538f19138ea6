"""RFC 9110 conditional requests over real HTTP: If-Match (strong comparison, ``*``, lists,
several lines), If-None-Match (weak comparison, 304), malformed fields, and conditional headers
where they are not evaluated."""
from __future__ import annotations

import httpx
import pytest

from tests.support.api import User

PARSE_ERROR_DETAIL = 'If-Match must be "*" or a comma-separated list of entity-tags like "3"'


def _rename(client: httpx.Client, owner: User, tenant: str, name: str,
            if_match: str | list[str] | None) -> httpx.Response:
    headers = list(owner.in_tenant(tenant).items())
    lines = [if_match] if isinstance(if_match, str) else (if_match or [])
    headers += [("If-Match", line) for line in lines]
    return client.patch(f"/tenants/{tenant}", json={"name": name}, headers=headers)


def _name(client: httpx.Client, owner: User, tenant: str) -> str:
    return str(client.get(f"/tenants/{tenant}", headers=owner.in_tenant(tenant)).json()["name"])


# -- If-Match ---------------------------------------------------------------------------------

def test_a_weak_tag_never_matches_if_match(client: httpx.Client, owner: User, tenant: str) -> None:
    r = _rename(client, owner, tenant, "Weak", 'W/"1"')
    assert r.status_code == 412, r.text
    assert (r.json()["code"], r.json()["current_rev"]) == ("REVISION_CONFLICT", 1)
    assert _name(client, owner, tenant) == "Acme"


def test_star_matches_the_existing_resource(client: httpx.Client, owner: User, tenant: str) -> None:
    r = _rename(client, owner, tenant, "Any revision", "*")
    assert r.status_code == 200 and r.json()["rev"] == 2 and r.headers["ETag"] == '"2"'


def test_a_list_matches_when_any_member_matches(client: httpx.Client, owner: User, tenant: str) -> None:
    assert _rename(client, owner, tenant, "Listed", '"7", W/"1", "1"').json()["rev"] == 2
    stale = _rename(client, owner, tenant, "Stale list", '"1", W/"2", "3"')
    assert (stale.status_code, stale.json()["current_rev"]) == (412, 2)
    assert _name(client, owner, tenant) == "Listed"


def test_if_match_lines_combine_into_one_list(client: httpx.Client, owner: User, tenant: str) -> None:
    r = _rename(client, owner, tenant, "Two lines", ['"9"', '"1"'])
    assert r.status_code == 200 and r.json()["rev"] == 2


def test_tags_compare_as_strings_not_numbers(client: httpx.Client, owner: User, tenant: str) -> None:
    assert _rename(client, owner, tenant, "Padded", '"01"').status_code == 412


@pytest.mark.parametrize("value", ["1", "abc", "W/1", '"1', '"1" "2"', '*, "1"', ",", 'w/"1"', '"1";q=1'])
def test_a_malformed_if_match_is_400_without_parser_internals(client: httpx.Client, owner: User, tenant: str,
                                                              value: str) -> None:
    r = _rename(client, owner, tenant, "Malformed", value)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert (r.json()["code"], r.json()["detail"]) == ("INVALID_PRECONDITION", PARSE_ERROR_DETAIL)
    assert _name(client, owner, tenant) == "Acme"


def _raw_patch(base_url: str, owner: User, tenant: str, if_match: bytes) -> tuple[bytes, bytes]:
    """httpx sends only ASCII header values; a browser or a proxy may send any byte."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(base_url)
    body = b'{"name": "Raw"}'
    head = "".join(f"{k}: {v}\r\n" for k, v in owner.in_tenant(tenant).items())
    request = (f"PATCH /tenants/{tenant} HTTP/1.1\r\nHost: {url.netloc}\r\n{head}"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n").encode()
    request += b"If-Match: " + if_match + b"\r\n\r\n" + body
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return status_line, rest


def test_non_ascii_bytes_in_if_match_are_compared_or_refused_cleanly(owner: User, tenant: str,
                                                                      platform: object) -> None:
    base_url = platform.base_url  # type: ignore[attr-defined]
    status, rest = _raw_patch(base_url, owner, tenant, b'\xff\xfe"1"')
    assert b" 400 " in status, rest
    assert b"INVALID_PRECONDITION" in rest and b"codec" not in rest
    status, rest = _raw_patch(base_url, owner, tenant, b'"\xe9t\xe9"')  # obs-text: a valid tag, not ours
    assert b" 412 " in status, rest


def test_if_match_on_a_route_that_does_not_evaluate_it_is_refused(client: httpx.Client, owner: User,
                                                                  tenant: str) -> None:
    """Not ignored: the client would believe its POST was conditional."""
    r = client.post("/chat/threads", json={}, headers={**owner.in_tenant(tenant), "If-Match": '"1"'})
    assert (r.status_code, r.json()["code"]) == (400, "INVALID_PRECONDITION")
    threads = client.get("/chat/threads", headers=owner.in_tenant(tenant)).json()["threads"]
    assert threads == []


# -- If-None-Match ----------------------------------------------------------------------------

@pytest.mark.parametrize("value", ['"1"', 'W/"1"', "*", '"5", "1"', 'W/"9", W/"1"'])
def test_a_matching_if_none_match_is_304_with_etag_and_no_body(client: httpx.Client, owner: User, tenant: str,
                                                               value: str) -> None:
    r = client.get(f"/tenants/{tenant}", headers={**owner.in_tenant(tenant), "If-None-Match": value})
    assert r.status_code == 304, r.text
    assert r.headers["ETag"] == '"1"'
    assert r.content == b"" and "content-type" not in r.headers
    assert r.headers["X-Request-Id"]


def test_a_stale_if_none_match_gets_the_new_representation(client: httpx.Client, owner: User, tenant: str) -> None:
    assert _rename(client, owner, tenant, "Newer", '"1"').status_code == 200
    r = client.get(f"/tenants/{tenant}", headers={**owner.in_tenant(tenant), "If-None-Match": '"1"'})
    assert r.status_code == 200 and r.json()["name"] == "Newer" and r.headers["ETag"] == '"2"'
    again = client.get(f"/tenants/{tenant}", headers={**owner.in_tenant(tenant), "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_head_answers_304_too(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.head(f"/tenants/{tenant}", headers={**owner.in_tenant(tenant), "If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["ETag"] == '"1"'
    fresh = client.head(f"/tenants/{tenant}", headers={**owner.in_tenant(tenant), "If-None-Match": '"0"'})
    assert fresh.status_code == 200 and fresh.content == b"" and fresh.headers["ETag"] == '"1"'


def test_a_never_set_resource_at_rev_0_is_304_for_its_etag(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.get("/privacy/training-prefs", headers={**owner.in_tenant(tenant), "If-None-Match": '"0"'})
    assert r.status_code == 304 and r.headers["ETag"] == '"0"'


def test_if_none_match_never_turns_an_error_into_304(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.get("/chat/threads/th_0000000000000000", headers={**owner.in_tenant(tenant), "If-None-Match": "*"})
    assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND")


def test_a_malformed_if_none_match_is_400(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.get(f"/tenants/{tenant}", headers={**owner.in_tenant(tenant), "If-None-Match": "1"})
    assert (r.status_code, r.json()["code"]) == (400, "INVALID_PRECONDITION")
    assert r.json()["detail"].startswith("If-None-Match must be")


def test_if_none_match_on_a_write_is_refused_not_ignored(client: httpx.Client, owner: User, tenant: str) -> None:
    r = client.patch(f"/tenants/{tenant}", json={"name": "x", "base_rev": 1},
                     headers={**owner.in_tenant(tenant), "If-None-Match": "*"})
    assert (r.status_code, r.json()["code"]) == (400, "INVALID_PRECONDITION")
    assert _name(client, owner, tenant) == "Acme"

"""infra/firestore.rules on Google's Firestore emulator, read over REST with Firebase ID tokens.

Fixtures are written as the emulator's admin (``Bearer owner`` bypasses rules); clients use
unsigned (``alg: none``) ID tokens, which the emulator accepts as ``request.auth``:

* alice: tenant t_alpha through the ``tenants`` custom claim only (no membership document);
* carol: tenant t_alpha through her membership document only (no claim: a user of many tenants);
* bob:   tenant t_beta through both.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.firestore_emulator import ADMIN, FirestoreEmulator, emulator_session, unsigned_id_token

pytestmark = pytest.mark.emulator
PROJECT = "demo-rules"
RULES = Path(__file__).resolve().parents[2] / "infra" / "firestore.rules"
A, B = "t_alpha", "t_beta"
MSG = "tenants/{t}/envs/dev/threads/th_1/messages/000000000001"
SYSTEM = ["system/jwks", "outbox/ev_1", "idempotency/k_1", "processed_events/c__1", "sessions/s_1",
          "refresh_tokens/r_1", "user_emails/alice@example.com", "users/alice"]


@pytest.fixture(scope="session")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"booleanValue": v}
    if isinstance(v, int):
        return {"integerValue": str(v)}
    return {"stringValue": str(v)}


class Rest:
    def __init__(self, http: httpx.Client, token: str | None) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _url(self, path: str) -> str:
        return f"/v1/projects/{PROJECT}/databases/(default)/documents/{path}"

    def get(self, path: str) -> int:
        return self._http.get(self._url(path), headers=self._headers).status_code

    def list_collection(self, collection: str) -> int:
        return self._http.get(self._url(collection), headers=self._headers).status_code

    def query(self, parent: str, collection_id: str, all_descendants: bool = False) -> int:
        body = {"structuredQuery": {"from": [{"collectionId": collection_id, "allDescendants": all_descendants}]}}
        url = self._url(parent).rstrip("/") + ":runQuery" if parent else \
            f"/v1/projects/{PROJECT}/databases/(default)/documents:runQuery"
        return self._http.post(url, json=body, headers=self._headers).status_code

    def put(self, path: str, data: dict[str, Any]) -> int:
        body = {"fields": {k: _value(v) for k, v in data.items()}}
        return self._http.patch(self._url(path), json=body, headers=self._headers).status_code

    def create(self, collection: str, doc_id: str, data: dict[str, Any]) -> int:
        body = {"fields": {k: _value(v) for k, v in data.items()}}
        return self._http.post(self._url(collection), params={"documentId": doc_id}, json=body,
                               headers=self._headers).status_code

    def delete(self, path: str) -> int:
        return self._http.delete(self._url(path), headers=self._headers).status_code


@pytest.fixture(scope="module")
def rest(firestore_emulator: FirestoreEmulator) -> dict[str, Rest]:
    firestore_emulator.load_rules(PROJECT, RULES)
    firestore_emulator.wipe(PROJECT)
    http = firestore_emulator.http
    admin = Rest(http, ADMIN)
    for t in (A, B):
        assert admin.put(MSG.format(t=t), {"seq": 1, "text": f"hello {t}", "status": "complete"}) == 200
        assert admin.put(f"tenants/{t}", {"tenant_id": t, "name": t}) == 200
        assert admin.put(f"tenants/{t}/envs/dev/dataset_events/ev_1", {"surface": "chat"}) == 200
    assert admin.put(f"tenants/{A}/members/carol", {"role": "member"}) == 200
    assert admin.put(f"tenants/{B}/members/bob", {"role": "owner"}) == 200
    assert admin.put(f"users/carol/memberships/{A}", {"tenant_id": A, "role": "member"}) == 200
    assert admin.put(f"users/bob/memberships/{B}", {"tenant_id": B, "role": "owner"}) == 200
    for path in SYSTEM:
        assert admin.put(path, {"secret": "x"}) == 200
    return {
        "alice": Rest(http, unsigned_id_token("alice", PROJECT, tenants={A: "member"})),
        "carol": Rest(http, unsigned_id_token("carol", PROJECT)),
        "bob": Rest(http, unsigned_id_token("bob", PROJECT, tenants={B: "owner"})),
        "anonymous": Rest(http, None),
        "admin": admin,
    }


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_a_member_reads_their_tenants_documents_by_claim_or_membership_document(
        rest: dict[str, Rest], user: str) -> None:
    client = rest[user]
    assert client.get(MSG.format(t=A)) == 200
    assert client.get(f"tenants/{A}/envs/dev/dataset_events/ev_1") == 200
    assert client.get(f"tenants/{A}") == 200
    assert client.list_collection(f"tenants/{A}/envs/dev/threads/th_1/messages") == 200
    assert client.query(f"tenants/{A}/envs/dev/threads/th_1", "messages") == 200


@pytest.mark.parametrize("user", ["alice", "carol"])
def test_a_member_of_one_tenant_reads_nothing_of_the_other(rest: dict[str, Rest], user: str) -> None:
    client = rest[user]
    assert client.get(MSG.format(t=B)) == 403
    assert client.get(f"tenants/{B}") == 403
    assert client.list_collection(f"tenants/{B}/envs/dev/threads/th_1/messages") == 403
    assert client.query(f"tenants/{B}/envs/dev/threads/th_1", "messages") == 403
    assert client.query(f"tenants/{B}/envs/dev", "dataset_events") == 403
    assert rest["bob"].get(MSG.format(t=A)) == 403 and rest["bob"].get(MSG.format(t=B)) == 200


def test_queries_that_could_cross_tenants_are_denied(rest: dict[str, Rest]) -> None:
    alice = rest["alice"]
    assert alice.query("", "messages", all_descendants=True) == 403  # collection group over every tenant
    assert alice.query(f"tenants/{A}/envs/dev", "messages", all_descendants=True) == 200  # scoped to A
    assert alice.query(f"tenants/{B}/envs/dev", "messages", all_descendants=True) == 403
    assert alice.query(f"tenants/{A}", "messages", all_descendants=True) == 403  # would reach members/
    assert alice.query("", "tenants") == 403
    assert alice.list_collection("tenants") == 403
    assert alice.list_collection(f"tenants/{A}/members") == 403


def test_unknown_envs_and_anonymous_callers_are_denied(rest: dict[str, Rest]) -> None:
    assert rest["admin"].put(f"tenants/{A}/envs/qa/threads/th_1", {"title": "x"}) == 200
    assert rest["alice"].get(f"tenants/{A}/envs/qa/threads/th_1") == 403
    assert rest["anonymous"].get(MSG.format(t=A)) == 403


def test_no_client_writes_anywhere(rest: dict[str, Rest]) -> None:
    for user in ("alice", "carol", "bob"):
        client = rest[user]
        assert client.put(MSG.format(t=A), {"text": "edited"}) == 403
        assert client.create(f"tenants/{A}/envs/dev/threads/th_1/messages", "000000000002", {"seq": 2}) == 403
        assert client.delete(MSG.format(t=A)) == 403
        assert client.put(f"tenants/{A}/members/{user}", {"role": "owner"}) == 403  # no self-promotion
        assert client.put(f"users/{user}/memberships/{B}", {"role": "owner"}) == 403
        assert client.put("outbox/ev_2", {"topic": "x"}) == 403
    assert rest["admin"].get(MSG.format(t=A)) == 200


def test_platform_collections_are_unreadable(rest: dict[str, Rest]) -> None:
    for user in ("alice", "carol", "bob", "anonymous"):
        for path in SYSTEM:
            assert rest[user].get(path) == 403, (user, path)
        assert rest[user].list_collection("outbox") == 403


def test_a_user_reads_only_their_own_memberships(rest: dict[str, Rest]) -> None:
    carol, bob = rest["carol"], rest["bob"]
    assert carol.get(f"users/carol/memberships/{A}") == 200 and carol.list_collection("users/carol/memberships") == 200
    assert carol.get(f"tenants/{A}/members/carol") == 200
    assert carol.get(f"users/bob/memberships/{B}") == 403 and carol.list_collection("users/bob/memberships") == 403
    assert bob.get(f"tenants/{A}/members/carol") == 403

"""Which address a caller has proven: a built-in account's verified flag, or a Firebase ID token's
``email_verified`` claim (Firebase sends its own verification mail). Invitations bind to nothing else."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.adapters.sqlite_store import SqliteStore
from studio.identity.verification import verified_email
from studio.kernel.context import Principal


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "store.db")
    yield s
    s.close()


def _firebase(**claims: object) -> Principal:
    return Principal(user_id="fb-uid", email=str(claims.get("email")), issuer="firebase", claims=claims)


def test_firebase_tokens_count_only_with_email_verified_true(store: SqliteStore) -> None:
    assert verified_email(store, _firebase(email="Ada@Example.com", email_verified=True)) == "ada@example.com"
    assert verified_email(store, _firebase(email="ada@example.com", email_verified=False)) is None
    assert verified_email(store, _firebase(email="ada@example.com")) is None
    assert verified_email(store, _firebase(email="ada@example.com", email_verified="true")) is None  # not a bool
    assert verified_email(store, _firebase(email_verified=True)) is None


def test_a_firebase_verified_lookalike_is_still_no_identity(store: SqliteStore) -> None:
    assert verified_email(store, _firebase(email="\u0430da@example.com", email_verified=True)) is None


def test_built_in_accounts_use_their_verified_flag(store: SqliteStore) -> None:
    store.put("users/u_1", {"user_id": "u_1", "email": "ada@example.com", "email_verified": False})
    ada = Principal(user_id="u_1", email="ada@example.com", session_id="s_1")
    assert verified_email(store, ada) is None
    store.put("users/u_1", {"user_id": "u_1", "email": "ada@example.com", "email_verified": True})
    assert verified_email(store, ada) == "ada@example.com"
    # The token's email claim is not what counts: the account's stored address is.
    assert verified_email(store, Principal(user_id="u_1", email="eve@example.com")) == "ada@example.com"
    assert verified_email(store, Principal(user_id="u_missing")) is None

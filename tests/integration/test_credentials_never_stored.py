"""A response that carries a credential is never kept for Idempotency-Key replay.

A replay record lives 24 h in the store, in plaintext: a ticket, a token pair or a reset token in
it would outlive its purpose and sit beside everything else a store backup holds. Generated over
every route of every function: a POST whose response model has a credential-shaped field must be
declared ``idempotent=False`` (the key is then ignored), and an idempotent POST must declare its
response model (or answer 204) so that this scan can see what it returns.
"""
from __future__ import annotations

import re
import types
import typing
import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from studio.kernel.routing import Route
from tests.support.api import User
from tests.support.platform import RunningPlatform
from tests.support.sqlite_locks import bytes_on_disk

CREDENTIAL = re.compile(r"(?:^|_)(?:token|ticket|secret|password|api_key|private_key|otp|code_verifier)s?$")
NOT_CREDENTIALS = {"next_page_token", "page_token"}  # opaque cursors: they grant nothing


def _routes() -> list[Route]:
    return [r for spec in manifest_mod.load().http() for r in loader.http_app(spec).table.routes]


POSTS = [r for r in _routes() if r.method == "POST"]


def _models(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, (types.GenericAlias, types.UnionType)) or typing.get_origin(annotation) is not None:
        return [m for arg in typing.get_args(annotation) for m in _models(arg)]
    return []


def _counts(annotation: object) -> bool:
    """A number (a token count, say) is never a credential: credentials are carried as text."""
    args = typing.get_args(annotation) if typing.get_origin(annotation) is not None else (annotation,)
    return all(a in (int, float, type(None)) for a in args)


def credential_fields(model: type[BaseModel], seen: frozenset[type[BaseModel]] = frozenset()) -> list[str]:
    """Dotted names of the credential-shaped fields in ``model`` and the models it nests."""
    found = []
    for name, info in model.model_fields.items():
        names = {name.lower(), (info.alias or name).lower()}
        if any(CREDENTIAL.search(n) for n in names) and not names & NOT_CREDENTIALS and not _counts(info.annotation):
            found.append(name)
        for nested in _models(info.annotation):
            if nested not in seen:
                found += [f"{name}.{inner}" for inner in credential_fields(nested, seen | {model})]
    return found


def test_the_scan_sees_the_credentials_it_must() -> None:
    by_path = {r.path: r for r in POSTS}
    assert by_path["/auth/login"].response is not None
    assert set(credential_fields(by_path["/auth/login"].response_model)) == {"access_token", "refresh_token"}
    assert credential_fields(by_path["/realtime/tickets"].response_model) == ["ticket"]  # type: ignore[arg-type]
    assert credential_fields(by_path["/chat/threads"].response_model) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("route", POSTS, ids=[f"{r.method} {r.path}" for r in POSTS])
def test_no_credential_is_stored_for_replay(route: Route) -> None:
    if not route.idempotent:
        return  # the Idempotency-Key is ignored: nothing is stored
    assert route.response is not None or route.status == 204, \
        f"{route.path}: an idempotent POST must declare its response model, so it can be checked for credentials"
    if route.response is not None:
        found = credential_fields(route.response_model)
        assert not found, f"{route.path} returns {found}: declare it idempotent=False"


def test_a_ticket_issued_with_an_idempotency_key_is_stored_nowhere(
        client: httpx.Client, owner: User, tenant: str, platform: RunningPlatform) -> None:
    key = uuid.uuid4().hex
    headers = {**owner.in_tenant(tenant), "Idempotency-Key": key}
    first = client.post("/realtime/tickets", json={"thread_id": "meta"}, headers=headers)
    assert first.status_code == 201
    ticket = first.json()["ticket"]
    # the store's files (WAL included) are the truth; read by another process, since opening and closing them
    # here would drop this process's SQLite locks on them (tests/support/sqlite_locks.py)
    on_disk = bytes_on_disk(Path(platform.deps.settings.data_dir))
    assert ticket.encode() not in on_disk, "a plaintext ticket was written to the data folder"
    second = client.post("/realtime/tickets", json={"thread_id": "meta"}, headers=headers)
    assert second.status_code == 201 and "idempotent-replayed" not in second.headers
    assert second.json()["ticket"] != ticket  # each call issued its own: nothing was kept to replay


def test_the_routes_that_issue_site_keys_keep_no_replay() -> None:
    # A site key's answer carries the secret under a plain ``key`` field (the scan's pattern cannot tell it
    # from a flag's key): each issuing route is named here, since the key is stored only as its SHA-256.
    by_path = {r.path: r for r in POSTS}
    for path in ("/sites/{site_id}/keys", "/flags/sdk-keys", "/fonts/site-keys"):
        assert not by_path[path].idempotent, f"{path} would keep the issued key in plaintext for replay"

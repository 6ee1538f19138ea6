"""SDK keys: how an OpenFeature SDK (OFREP provider) authenticates, per tenant and env (decision 0060).

An admin creates a key; its secret (``ofk_`` + 43 url-safe characters, 256 random bits) is shown
once and stored only as its SHA-256, under a platform-wide lookup document that names the tenant
and env: an SDK call carries no tenant header, the key says which. The SDK sends it as
``Authorization: Bearer ofk_...`` (the OFREP provider's ``headers_factory``) or ``X-API-Key``
(OFREP's ApiKeyAuth). Revoking deletes the lookup in the same commit; an instance may keep honouring
a key it verified for ``CACHE_S`` more seconds.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from studio.experiments import paths
from studio.experiments.errors import SDK_KEY_INVALID
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

PREFIX = "ofk_"
CACHE_S = 5.0
MAX_KEYS = 100
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_view(doc: Document, secret: str | None = None) -> dict[str, Any]:
    return {"id": doc.doc_id, "name": doc.data["name"], "prefix": doc.data["prefix"], "revoked": doc.data["revoked"],
            "created_at": doc.create_time, "key": secret}


def presented_key(authorization: str | None, api_key: str | None) -> str | None:
    """The key a request carries: ``Authorization: Bearer ofk_...`` or ``X-API-Key: ofk_...``."""
    if api_key:
        return api_key.strip()
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


class SdkKeyService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._verified: dict[str, tuple[float, str, str]] = {}  # digest -> (until, tenant, env)

    def create(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        secret = PREFIX + secrets.token_urlsafe(32)
        key_id = "sk_" + secrets.token_hex(8)
        hashed = digest(secret)

        def write(tx: Transaction) -> Document:
            if len(tx.query(Query(paths.sdk_keys(ctx.tenant_id, ctx.env), limit=MAX_KEYS)).docs) >= MAX_KEYS:
                raise errors.StudioError(errors.BAD_REQUEST, f"a tenant env holds at most {MAX_KEYS} SDK keys")
            doc = tx.create(paths.sdk_key(ctx.tenant_id, ctx.env, key_id), {
                "name": name, "prefix": secret[:10], "digest": hashed, "revoked": False,
                "created_by": ctx.user_id, "created_at": utc_now()})
            tx.create(paths.sdk_key_lookup(hashed), {"tenant_id": ctx.tenant_id, "env": ctx.env, "key_id": key_id})
            emit(tx, DomainEvent("experiments.sdk_key_created", ctx.tenant_id, ctx.env, doc.path, {"key_id": key_id}))
            return doc

        return key_view(self._store.run_transaction(write), secret)

    def list_keys(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.sdk_keys(ctx.tenant_id, ctx.env), limit=MAX_KEYS))
        return {"keys": [key_view(d) for d in page.docs]}

    def revoke(self, ctx: RequestContext, key_id: str) -> dict[str, Any]:
        if not key_id.startswith("sk_") or len(key_id) != 19:
            raise errors.NotFound("no such SDK key")
        path = paths.sdk_key(ctx.tenant_id, ctx.env, key_id)

        def write(tx: Transaction) -> Document:
            doc = tx.get(path)
            if doc is None:
                raise errors.NotFound("no such SDK key")
            if doc.data["revoked"]:  # one-way: revoking twice changes nothing and emits nothing
                return doc
            after = tx.put(path, dict(doc.data, revoked=True, revoked_at=utc_now()), expected_rev=doc.rev)
            tx.delete(paths.sdk_key_lookup(doc.data["digest"]))
            emit(tx, DomainEvent("experiments.sdk_key_revoked", ctx.tenant_id, ctx.env, path, {"key_id": key_id}))
            return after

        doc = self._store.run_transaction(write)
        self._verified.pop(doc.data["digest"], None)
        return key_view(doc)

    def authenticate(self, secret: str | None) -> tuple[str, str]:
        """(tenant_id, env) of a valid key; SDK_KEY_INVALID (401) otherwise."""
        if not secret or not secret.startswith(PREFIX) or len(secret) > 100 or not set(secret[4:]) <= _SECRET_CHARS:
            raise errors.StudioError(SDK_KEY_INVALID, headers={"WWW-Authenticate": 'Bearer realm="ofrep"'})
        hashed = digest(secret)
        now = time.monotonic()
        cached = self._verified.get(hashed)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        doc = self._store.get(paths.sdk_key_lookup(hashed))
        if doc is None:
            raise errors.StudioError(SDK_KEY_INVALID, headers={"WWW-Authenticate": 'Bearer realm="ofrep"'})
        if len(self._verified) > 10_000:
            self._verified.clear()
        self._verified[hashed] = (now + CACHE_S, doc.data["tenant_id"], doc.data["env"])
        return doc.data["tenant_id"], doc.data["env"]

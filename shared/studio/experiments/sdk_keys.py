"""SDK keys: how an OpenFeature SDK (OFREP provider) authenticates, per tenant and env (decisions 0060, 0095).

An admin creates a key; its secret (``ofk_`` + 43 url-safe characters, 256 random bits) is shown once.
It is a kernel site key of scope ``experiments.evaluate`` (kernel/site_keys.py: stored as its SHA-256,
resolved, scope-checked and revoked there); this module keeps the tenant's listing of its keys. The SDK
sends it as ``Authorization: Bearer ofk_...`` (the OFREP provider's ``headers_factory``) or ``X-API-Key``
(OFREP's ApiKeyAuth), which the OFREP routes declare (``RULE``).
"""
from __future__ import annotations

import secrets
from typing import Any

from studio.experiments import paths
from studio.experiments.errors import SDK_KEY_INVALID
from studio.kernel import errors, site_keys
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

PREFIX = "ofk_"
SCOPE = "experiments.evaluate"
MAX_KEYS = 100
RULE = site_keys.SiteKeyRule(SCOPE, site_keys.KeyPlace.BEARER, invalid=SDK_KEY_INVALID,
                             challenge='Bearer realm="ofrep"')


def key_view(doc: Document, secret: str | None = None) -> dict[str, Any]:
    return {"id": doc.doc_id, "name": doc.data["name"], "prefix": doc.data["prefix"], "revoked": doc.data["revoked"],
            "created_at": doc.create_time, "key": secret}


class SdkKeyService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def create(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        secret = PREFIX + secrets.token_urlsafe(32)
        key_id = "sk_" + secrets.token_hex(8)
        hashed = site_keys.digest(secret)

        def write(tx: Transaction) -> Document:
            if len(tx.query(Query(paths.sdk_keys(ctx.tenant_id, ctx.env), limit=MAX_KEYS)).docs) >= MAX_KEYS:
                raise errors.StudioError(errors.BAD_REQUEST, f"a tenant env holds at most {MAX_KEYS} SDK keys")
            doc = tx.create(paths.sdk_key(ctx.tenant_id, ctx.env, key_id), {
                "name": name, "prefix": secret[:10], "digest": hashed, "revoked": False,
                "created_by": ctx.user_id, "created_at": utc_now()})
            site_keys.issue(tx, secret, site_keys.SiteKeyGrant(SCOPE, ctx.tenant_id, ctx.env, key_id))
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
            site_keys.revoke(tx, doc.data["digest"])
            emit(tx, DomainEvent("experiments.sdk_key_revoked", ctx.tenant_id, ctx.env, path, {"key_id": key_id}))
            return after

        return key_view(self._store.run_transaction(write))

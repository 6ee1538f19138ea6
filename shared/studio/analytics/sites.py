"""Sites (one per web property sending events) and their write keys.

A write key is a public token in the site's pages, like PostHog's project key: it says which site an
event belongs to, not who may read anything. What keeps it from being abused is the site's origin
allow-list, the per-key and per-IP rate limits and the key's revocation. The key is stored only as its
SHA-256 (a lookup document under ``analytics_write_keys/``, written in the same transaction as the
key's listing under the site), and shown whole only in the answer that created it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from studio.analytics import paths
from studio.kernel import cors, errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

MAX_SITES = 200
MAX_KEYS_PER_SITE = 20
KEY_PREFIX = "wk_"


@dataclass(frozen=True)
class SiteRef:
    """What a write key resolves to."""

    tenant_id: str
    env: str
    site_id: str
    key_id: str
    origins: tuple[str, ...]
    allow_no_origin: bool
    rate_limit_per_minute: int


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_origins(origins: list[str]) -> list[str]:
    """The allow-list in kernel/cors.py's grammar; ``*`` is refused (a site names its origins)."""
    cleaned = [o.strip() for o in origins]
    if "*" in cleaned:
        raise errors.StudioError(errors.VALIDATION_FAILED, "a site lists its origins; '*' is not allowed",
                                 errors=[{"loc": ["body", "origins"], "msg": "'*' is not allowed"}])
    try:
        cors.policy(tuple(cleaned))
    except ValueError as exc:
        raise errors.StudioError(errors.VALIDATION_FAILED, str(exc),
                                 errors=[{"loc": ["body", "origins"], "msg": str(exc)}]) from None
    return cleaned


def site_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "name": d["name"], "origins": list(d["origins"]), "allow_no_origin": d["allow_no_origin"],
            "rate_limit_per_minute": d["rate_limit_per_minute"], "rev": doc.rev, "created_at": d["created_at"],
            "updated_at": d["updated_at"]}


def key_view(doc: Document, site_id: str, key: str | None = None) -> dict[str, Any]:
    return {"id": doc.doc_id, "site_id": site_id, "prefix": doc.data["prefix"], "revoked": doc.data["revoked"],
            "created_at": doc.data["created_at"], "key": key}


class SiteService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    # -- sites --------------------------------------------------------------------------
    def create(self, ctx: RequestContext, name: str, origins: list[str], allow_no_origin: bool,
               rate_limit_per_minute: int) -> dict[str, Any]:
        site_id = "site_" + secrets.token_hex(6)
        cleaned = check_origins(origins)

        def write(tx: Transaction) -> Document:
            if len(tx.query(Query(paths.sites(ctx.tenant_id, ctx.env), limit=MAX_SITES)).docs) >= MAX_SITES:
                raise errors.StudioError(errors.VALIDATION_FAILED, f"a tenant keeps at most {MAX_SITES} sites")
            now = utc_now()
            doc = tx.create(paths.site(ctx.tenant_id, ctx.env, site_id), {
                "name": name, "origins": cleaned, "allow_no_origin": allow_no_origin,
                "rate_limit_per_minute": rate_limit_per_minute, "created_at": now, "updated_at": now})
            emit(tx, DomainEvent("analytics.site_created", ctx.tenant_id, ctx.env, doc.path, {"site_id": site_id}))
            return doc

        return site_view(self._store.run_transaction(write))

    def list_sites(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.sites(ctx.tenant_id, ctx.env), limit=MAX_SITES))
        return {"sites": [site_view(d) for d in page.docs]}

    def get(self, ctx: RequestContext, site_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.site(ctx.tenant_id, ctx.env, site_id))
        if doc is None:
            raise errors.NotFound("no such site")
        return site_view(doc)

    def current_rev(self, ctx: RequestContext, site_id: str) -> int | None:
        doc = self._store.get(paths.site(ctx.tenant_id, ctx.env, site_id))
        return None if doc is None else doc.rev

    def edit(self, ctx: RequestContext, site_id: str, changes: dict[str, Any], base_rev: int) -> dict[str, Any]:
        if "origins" in changes:
            changes["origins"] = check_origins(changes["origins"])

        def write(tx: Transaction) -> Document:
            return repository.update(
                tx, paths.site(ctx.tenant_id, ctx.env, site_id), base_rev, what="site",
                change=lambda doc: {**doc.data, **changes, "updated_at": utc_now()},
                event=lambda before, after: DomainEvent("analytics.site_updated", ctx.tenant_id, ctx.env, after.path,
                                                        {"site_id": site_id, "fields": sorted(changes)})).after

        return site_view(self._store.run_transaction(write))

    # -- keys ---------------------------------------------------------------------------
    def create_key(self, ctx: RequestContext, site_id: str) -> dict[str, Any]:
        key = KEY_PREFIX + secrets.token_urlsafe(24)
        key_id = "key_" + secrets.token_hex(6)

        def write(tx: Transaction) -> Document:
            if tx.get(paths.site(ctx.tenant_id, ctx.env, site_id)) is None:
                raise errors.NotFound("no such site")
            listing = paths.site_keys(ctx.tenant_id, ctx.env, site_id)
            if len(tx.query(Query(listing, limit=MAX_KEYS_PER_SITE)).docs) >= MAX_KEYS_PER_SITE:
                raise errors.StudioError(errors.VALIDATION_FAILED, f"a site keeps at most {MAX_KEYS_PER_SITE} keys")
            hashed = key_hash(key)
            tx.create(paths.key_lookup(hashed), {"tenant_id": ctx.tenant_id, "env": ctx.env, "site_id": site_id,
                                                 "key_id": key_id, "revoked": False})
            doc = tx.create(paths.site_key(ctx.tenant_id, ctx.env, site_id, key_id), {
                "prefix": key[:10], "hash": hashed, "revoked": False, "created_at": utc_now()})
            emit(tx, DomainEvent("analytics.key_created", ctx.tenant_id, ctx.env, doc.path,
                                 {"site_id": site_id, "key_id": key_id}))
            return doc

        return key_view(self._store.run_transaction(write), site_id, key)

    def list_keys(self, ctx: RequestContext, site_id: str) -> dict[str, Any]:
        if self._store.get(paths.site(ctx.tenant_id, ctx.env, site_id)) is None:
            raise errors.NotFound("no such site")
        page = self._store.query(Query(paths.site_keys(ctx.tenant_id, ctx.env, site_id), limit=MAX_KEYS_PER_SITE))
        return {"keys": [key_view(d, site_id) for d in page.docs]}

    def revoke_key(self, ctx: RequestContext, site_id: str, key_id: str) -> dict[str, Any]:
        def write(tx: Transaction) -> Document:
            path = paths.site_key(ctx.tenant_id, ctx.env, site_id, key_id)
            doc = tx.get(path)
            if doc is None:
                raise errors.NotFound("no such key")
            if doc.data["revoked"]:
                return doc
            lookup = tx.get(paths.key_lookup(doc.data["hash"]))
            if lookup is not None:
                tx.put(lookup.path, {**lookup.data, "revoked": True})
            after = tx.put(path, {**doc.data, "revoked": True, "revoked_at": utc_now()})
            emit(tx, DomainEvent("analytics.key_revoked", ctx.tenant_id, ctx.env, path,
                                 {"site_id": site_id, "key_id": key_id}))
            return after

        return key_view(self._store.run_transaction(write), site_id)

    def resolve_key(self, key: str) -> SiteRef | None:
        """The site a write key sends for, or None (unknown, revoked, or its site is gone)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        lookup = self._store.get(paths.key_lookup(key_hash(key)))
        if lookup is None or lookup.data.get("revoked"):
            return None
        d = lookup.data
        site = self._store.get(paths.site(d["tenant_id"], d["env"], d["site_id"]))
        if site is None:
            return None
        return SiteRef(d["tenant_id"], d["env"], d["site_id"], d["key_id"], tuple(site.data["origins"]),
                       bool(site.data["allow_no_origin"]), int(site.data["rate_limit_per_minute"]))

"""Sites (one per web property sending events) and their write keys.

A write key is a public token in the site's pages, like PostHog's project key: it says which site an
event belongs to, not who may read anything. What keeps it from being abused is the site's origin
allow-list, the per-key and per-IP rate limits and the key's revocation. It is a kernel site key of
scope ``analytics.ingest`` (kernel/site_keys.py: stored only as its SHA-256, written in the same
transaction as the key's listing under the site), shown whole only in the answer that created it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from studio.analytics import paths
from studio.kernel import cors, errors, repository, site_keys
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.site_keys import SiteKeyGrant
from studio.ports.store import Document, DocumentStore, Query, Transaction

MAX_SITES = 200
MAX_KEYS_PER_SITE = 20
KEY_PREFIX = "wk_"
SCOPE = "analytics.ingest"


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


def check_origins(origins: list[str]) -> list[str]:
    """The allow-list in kernel/cors.py's grammar; ``*`` is refused (a site names its origins)."""
    cleaned = [o.strip() for o in origins]
    if "*" in cleaned:
        raise errors.StudioError(errors.VALIDATION_FAILED, "a site lists its origins; '*' is not allowed",
                                 errors=[{"loc": ["body", "origins"], "msg": "'*' is not allowed"}])
    for index, origin in enumerate(cleaned):
        try:
            cors.policy((origin,))
        except ValueError:
            msg = "not an origin pattern: scheme://host[:port], with optional '*.' subdomains or ':*' port"
            raise errors.StudioError(errors.VALIDATION_FAILED, f"origins[{index}] is {msg}",
                                     errors=[{"loc": ["body", "origins", index], "msg": msg}]) from None
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
            hashed = site_keys.digest(key)
            site_keys.issue(tx, key, SiteKeyGrant(SCOPE, ctx.tenant_id, ctx.env, key_id, {"site_id": site_id}))
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
            site_keys.revoke(tx, doc.data["hash"])
            after = tx.put(path, {**doc.data, "revoked": True, "revoked_at": utc_now()})
            emit(tx, DomainEvent("analytics.key_revoked", ctx.tenant_id, ctx.env, path,
                                 {"site_id": site_id, "key_id": key_id}))
            return after

        return key_view(self._store.run_transaction(write), site_id)

    def site_ref(self, grant: SiteKeyGrant) -> SiteRef | None:
        """The site an admitted write key sends for, or None when the site is gone."""
        site_id = str(grant.subject.get("site_id", ""))
        site = self._store.get(paths.site(grant.tenant_id, grant.env, site_id)) if site_id else None
        if site is None:
            return None
        return SiteRef(grant.tenant_id, grant.env, site_id, grant.key_id, tuple(site.data["origins"]),
                       bool(site.data["allow_no_origin"]), int(site.data["rate_limit_per_minute"]))

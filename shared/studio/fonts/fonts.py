"""Registered fonts: stored once per content hash in the tenant's media bucket, read with fontTools, and
refused when their licence forbids embedding."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from studio.fonts import paths
from studio.fonts.inspect_font import inspect
from studio.kernel import errors, site_keys
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, DocumentStore, Query, Transaction

_FONT_ID = re.compile(r"^fn_[0-9a-f]{20}$")
_SITE_KEY_ID = re.compile(r"^fsk_[0-9a-f]{16}$")
SITE_KEY_PREFIX = "fk_"
SITE_KEY_SCOPE = "fonts.css"
_MIME = {"woff2": "font/woff2", "woff": "font/woff", "otf": "font/otf", "ttf": "font/ttf"}


def font_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "rev": doc.rev, "filename": d["filename"], "public": d["public"], "sha256": d["sha256"],
            "size_bytes": d["size_bytes"], "created_at": d["created_at"], **d["facts"]}


def site_key_view(doc: Document) -> dict[str, Any]:
    return {"id": doc.doc_id, "prefix": doc.data["prefix"], "revoked": doc.data["revoked"],
            "created_at": doc.data["created_at"]}


class FontService:
    def __init__(self, store: DocumentStore, blobs: BlobStore) -> None:
        self._store = store
        self._blobs = blobs

    def register(self, ctx: RequestContext, filename: str, data: bytes, public: bool) -> dict[str, Any]:
        facts = inspect(data)  # refused before anything is stored
        sha = hashlib.sha256(data).hexdigest()
        font_id = "fn_" + sha[:20]  # one document per content: registering the same file again returns it
        path = paths.font(ctx.tenant_id, ctx.env, font_id)
        found = self._store.get(path)
        if found is not None:
            return font_view(found)
        name = paths.font_object(ctx.tenant_id, ctx.env, sha, facts["format"])
        info = self._blobs.put(paths.FONTS_BUCKET, name, data, _MIME[facts["format"]])

        def write(tx: Transaction) -> Document:
            again = tx.get(path)
            if again is not None:
                return again
            doc = tx.create(path, {"filename": filename, "public": public, "family": facts["family"],
                                   "sha256": sha, "size_bytes": len(data),
                                   "facts": facts, "created_at": utc_now(), "created_by": ctx.user_id,
                                   "object": {"bucket": paths.FONTS_BUCKET, "name": name,
                                              "generation": info.generation}})
            emit(tx, DomainEvent("fonts.font_registered", ctx.tenant_id, ctx.env, path,
                                 {"font_id": font_id, "family": facts["family"], "sha256": sha}))
            return doc

        return font_view(self._store.run_transaction(write))

    def get_doc(self, tenant_id: str, env: str, font_id: str) -> Document:
        doc = None if not _FONT_ID.match(font_id) else self._store.get(paths.font(tenant_id, env, font_id))
        if doc is None:
            raise errors.NotFound("no such font")
        return doc

    def get(self, ctx: RequestContext, font_id: str) -> dict[str, Any]:
        return font_view(self.get_doc(ctx.tenant_id, ctx.env, font_id))

    def list_fonts(self, ctx: RequestContext, limit: int, cursor: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.fonts(ctx.tenant_id, ctx.env), [], [("created_at", "desc")],
                                       limit, cursor))
        return {"fonts": [font_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def create_site_key(self, ctx: RequestContext) -> dict[str, Any]:
        """A public key for the tenant's CSS2 stylesheet URL (it serves only fonts marked public): a kernel
        site key of scope ``fonts.css`` (kernel/site_keys.py), listed here so an admin can revoke it."""
        import secrets

        key = SITE_KEY_PREFIX + secrets.token_hex(12)
        key_id = "fsk_" + secrets.token_hex(8)

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.site_key(ctx.tenant_id, ctx.env, key_id), {
                "prefix": key[:7], "digest": site_keys.digest(key), "revoked": False, "created_at": utc_now(),
                "created_by": ctx.user_id})
            site_keys.issue(tx, key, site_keys.SiteKeyGrant(SITE_KEY_SCOPE, ctx.tenant_id, ctx.env, key_id))
            emit(tx, DomainEvent("fonts.site_key_created", ctx.tenant_id, ctx.env, doc.path, {"key_id": key_id}))
            return doc

        doc = self._store.run_transaction(write)
        return {**site_key_view(doc), "site_key": key, "css2": f"/fonts/{key}/css2"}

    def revoke_site_key(self, ctx: RequestContext, key_id: str) -> dict[str, Any]:
        """Revoke a site key for good: its stylesheet URL stops answering (within the kernel's cache time)."""
        path = paths.site_key(ctx.tenant_id, ctx.env, key_id) if _SITE_KEY_ID.match(key_id) else None

        def write(tx: Transaction) -> Document:
            doc = None if path is None else tx.get(path)
            if doc is None:
                raise errors.NotFound("no such site key")
            if doc.data["revoked"]:  # one-way: revoking twice changes nothing and emits nothing
                return doc
            after = tx.put(doc.path, {**doc.data, "revoked": True, "revoked_at": utc_now()}, expected_rev=doc.rev)
            site_keys.revoke(tx, doc.data["digest"])
            emit(tx, DomainEvent("fonts.site_key_revoked", ctx.tenant_id, ctx.env, doc.path, {"key_id": key_id}))
            return after

        revoked = self._store.run_transaction(write)
        # again after the commit: a stylesheet request that read the record between the in-transaction
        # forget and the commit cached it unrevoked; this instance must refuse the key from now on
        site_keys.forget(revoked.data["digest"])
        return site_key_view(revoked)

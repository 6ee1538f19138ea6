"""Registered fonts: stored once per content hash in the tenant's media bucket, read with fontTools, and
refused when their licence forbids embedding."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from studio.fonts import paths
from studio.fonts.inspect_font import inspect
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, DocumentStore, Query, Transaction

_FONT_ID = re.compile(r"^fn_[0-9a-f]{20}$")
_MIME = {"woff2": "font/woff2", "woff": "font/woff", "otf": "font/otf", "ttf": "font/ttf"}


def font_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "rev": doc.rev, "filename": d["filename"], "public": d["public"], "sha256": d["sha256"],
            "size_bytes": d["size_bytes"], "created_at": d["created_at"], **d["facts"]}


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
        """A public key for the tenant's CSS2 stylesheet URL (it serves only fonts marked public)."""
        import secrets

        key = "fk_" + secrets.token_hex(12)

        def write(tx: Transaction) -> None:
            tx.create(paths.site_key(key), {"tenant_id": ctx.tenant_id, "env": ctx.env, "created_at": utc_now(),
                                            "created_by": ctx.user_id})
            emit(tx, DomainEvent("fonts.site_key_created", ctx.tenant_id, ctx.env, paths.site_key(key),
                                 {"site_key": key}))

        self._store.run_transaction(write)
        return {"site_key": key, "css2": f"/fonts/{key}/css2"}

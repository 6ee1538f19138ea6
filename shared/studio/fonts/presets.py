"""Font presets: named text styles (family, weight, size, line height, tracking, OpenType features),
revisioned, and served as CSS custom properties for a site's stylesheet."""
from __future__ import annotations

import re
import secrets
from typing import Any

from studio.fonts import paths
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

_PRESET_ID = re.compile(r"^fp_[0-9a-f]{16}$")
FIELDS = ("name", "family", "weight", "size_px", "line_height", "tracking_em", "features")


def preset_view(doc: Document) -> dict[str, Any]:
    return {"id": doc.doc_id, "rev": doc.rev, "created_at": doc.data["created_at"]} | {
        k: doc.data[k] for k in FIELDS}


def css(doc: Document) -> str:
    """The preset as CSS custom properties (``--font-<name>-*``) on ``:root``."""
    d = doc.data
    slug = re.sub(r"[^a-z0-9]+", "-", d["name"].lower()).strip("-") or doc.doc_id
    features = ", ".join(f'"{f}" 1' for f in d["features"]) or "normal"
    family = d["family"].replace("\\", "").replace("'", "")
    return (f":root {{\n  --font-{slug}-family: '{family}', system-ui, sans-serif;\n"
            f"  --font-{slug}-weight: {d['weight']};\n  --font-{slug}-size: {d['size_px']:g}px;\n"
            f"  --font-{slug}-line-height: {d['line_height']:g};\n  --font-{slug}-tracking: {d['tracking_em']:g}em;\n"
            f"  --font-{slug}-features: {features};\n}}\n")


class PresetService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def path(self, ctx: RequestContext, preset_id: str) -> str:
        if not _PRESET_ID.match(preset_id):
            raise errors.NotFound("no such preset")
        return paths.preset(ctx.tenant_id, ctx.env, preset_id)

    def create(self, ctx: RequestContext, fields: dict[str, Any]) -> dict[str, Any]:
        preset_id = "fp_" + secrets.token_hex(8)
        path = paths.preset(ctx.tenant_id, ctx.env, preset_id)

        def write(tx: Transaction) -> Document:
            doc = tx.create(path, {**fields, "created_at": utc_now()})
            emit(tx, DomainEvent("fonts.preset_created", ctx.tenant_id, ctx.env, path, {"preset_id": preset_id}))
            return doc

        return preset_view(self._store.run_transaction(write))

    def get_doc(self, ctx: RequestContext, preset_id: str) -> Document:
        doc = self._store.get(self.path(ctx, preset_id))
        if doc is None:
            raise errors.NotFound("no such preset")
        return doc

    def current_rev(self, ctx: RequestContext, preset_id: str) -> int | None:
        doc = self._store.get(self.path(ctx, preset_id))
        return None if doc is None else doc.rev

    def list_presets(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.presets(ctx.tenant_id, ctx.env), [], [("created_at", "desc")], 200))
        return {"presets": [preset_view(d) for d in page.docs]}

    def patch(self, ctx: RequestContext, preset_id: str, fields: dict[str, Any], base_rev: int) -> dict[str, Any]:
        path = self.path(ctx, preset_id)
        changes = {k: v for k, v in fields.items() if v is not None}
        done = self._store.run_transaction(lambda tx: repository.update(
            tx, path, base_rev, what="preset", change=lambda doc: dict(doc.data, **changes),
            event=lambda before, after: DomainEvent("fonts.preset_updated", ctx.tenant_id, ctx.env, path,
                                                    {"preset_id": preset_id})))
        return preset_view(done.after)

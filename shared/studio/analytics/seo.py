"""SEO page configs per (surface, page type): upserted at base_rev 0, revisioned after (decision 0016)."""
from __future__ import annotations

import re
from typing import Any

from studio.analytics import paths
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

MAX_PAGES = 1_000
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELDS = ("path", "title", "description", "canonical_url", "robots", "og", "entry", "links", "ctas")


def page_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {**{f: d.get(f) for f in _FIELDS}, "surface": d["surface"], "page_type": d["page_type"],
            "rev": doc.rev, "updated_at": d["updated_at"]}


class SeoService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def current_rev(self, ctx: RequestContext, surface: str, page_type: str) -> int | None:
        if not (_KEY.match(surface) and _KEY.match(page_type)):
            return None  # not a name a page config can have: 404
        doc = self._store.get(paths.seo_page(ctx.tenant_id, ctx.env, surface, page_type))
        return 0 if doc is None else doc.rev  # upserted: a page not written yet reads as rev 0

    def put(self, ctx: RequestContext, surface: str, page_type: str, config: dict[str, Any],
            base_rev: int) -> dict[str, Any]:
        path = paths.seo_page(ctx.tenant_id, ctx.env, surface, page_type)
        data = {**{f: config.get(f) for f in _FIELDS}, "surface": surface, "page_type": page_type}

        def write(tx: Transaction) -> Document:
            if base_rev == 0 and tx.get(path) is None:
                count = len(tx.query(Query(paths.seo_pages(ctx.tenant_id, ctx.env), limit=MAX_PAGES)).docs)
                if count >= MAX_PAGES:
                    raise errors.StudioError(errors.VALIDATION_FAILED, f"a tenant keeps at most {MAX_PAGES} pages")
            return repository.upsert(
                tx, path, base_rev, change=lambda current: {**data, "updated_at": utc_now()},
                event=lambda before, after: DomainEvent("analytics.seo_page_saved", ctx.tenant_id, ctx.env, after.path,
                                                        {"surface": surface, "page_type": page_type,
                                                         "created": before is None})).after

        return page_view(self._store.run_transaction(write))

    def get(self, ctx: RequestContext, surface: str, page_type: str) -> dict[str, Any]:
        if not (_KEY.match(surface) and _KEY.match(page_type)):
            raise errors.NotFound("no such SEO page config")
        doc = self._store.get(paths.seo_page(ctx.tenant_id, ctx.env, surface, page_type))
        if doc is None:
            raise errors.NotFound("no such SEO page config")
        return page_view(doc)

    def list_pages(self, ctx: RequestContext, surface: str | None) -> dict[str, Any]:
        filters = [Filter("surface", "==", surface)] if surface is not None else []
        docs = self._store.query(Query(paths.seo_pages(ctx.tenant_id, ctx.env), filters, limit=MAX_PAGES)).docs
        return {"pages": [page_view(d) for d in sorted(docs, key=lambda d: (d.data["surface"], d.data["page_type"]))]}

"""Raw documents (``/nexus/raw``): the text a tenant gives Nexus, kept so atoms can point into it.

A submission (the text in the body, or an uploaded document asset: asset_docs.py) extracts the text at
once (a document that cannot be read is refused with 422, not discovered later), stores it with status ``queued``, and queues its ingest (ingest.py) with a run,
all in one transaction. Replacing a document queues a new ingest, which replaces its atoms and cards
atomically; deleting it deletes its atoms and cards in the same transaction (the index with them).
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.nexus import index_state, paths, runs
from studio.nexus.asset_docs import AssetDocument, read_asset_document
from studio.nexus.extract import Format, bytes_to_text, to_text
from studio.nexus.settings import INGEST_TOPIC
from studio.ports.blobs import BlobStore
from studio.ports.embeddings import Embedder
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

MAX_DOCS = 5_000
MAX_ATOMS = 200  # per document: a re-ingest replaces its cards in one transaction (Firestore: 500 writes)


def raw_view(doc: Document, state: Document | None, *, with_text: bool = False) -> dict[str, Any]:
    """The document (the user's resource, whose rev only the user's writes move) with its ingest state
    (the atoms document the worker writes: the last finished run's atoms, status and error)."""
    d = doc.data
    s = state.data if state is not None else {}
    done = s.get("run_id") == d.get("run_id")  # the worker has finished the latest submission
    view = {"id": doc.doc_id, "title": d["title"], "format": d["format"], "tags": d.get("tags", []),
            "asset_id": (d.get("asset") or {}).get("asset_id"),
            "status": s.get("status", "queued") if done else "queued", "run_id": d.get("run_id"),
            "chars": len(d["text"]), "atoms": len(s.get("atoms", [])), "cards": s.get("cards", 0),
            "error": s.get("error") if done else None, "rev": doc.rev, "created_at": d["created_at"],
            "updated_at": d.get("updated_at", d["created_at"])}
    if with_text:
        view["text"] = d["text"]
    return view


class RawDocService:
    def __init__(self, store: DocumentStore, embedder: Embedder, blobs: BlobStore) -> None:
        self._store = store
        self._embedder = embedder
        self._blobs = blobs

    def _read(self, ctx: RequestContext, fmt: Format | None, content: str | None,
              asset_id: str | None) -> tuple[Format, str, AssetDocument | None]:
        """The format and text of the body's content, or of the tenant's document asset ``asset_id``."""
        if asset_id is not None:
            asset = read_asset_document(self._store, self._blobs, ctx.tenant_id, ctx.env, asset_id)
            return asset.fmt, bytes_to_text(asset.fmt, asset.data), asset
        fmt = fmt or "text"
        return fmt, to_text(fmt, content or ""), None

    def submit(self, ctx: RequestContext, title: str | None, fmt: Format | None, content: str | None,
               tags: Sequence[str], asset_id: str | None = None) -> dict[str, Any]:
        fmt, text, asset = self._read(ctx, fmt, content, asset_id)
        title = title or (asset.title if asset is not None else "Untitled")
        doc_id, run_id = "nd_" + secrets.token_hex(8), runs.new_run_id()

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.raw_doc(ctx.tenant_id, ctx.env, doc_id), {
                "title": title, "format": fmt, "text": text, "tags": sorted(set(tags)),
                "asset": asset.source() if asset is not None else None, "run_id": run_id, "created_by": ctx.user_id, "created_at": utc_now(), "updated_at": utc_now()})
            self._queue(tx, ctx, doc_id, run_id, "nexus.doc_submitted")
            return doc

        return raw_view(self._store.run_transaction(write), None)

    def replace(self, ctx: RequestContext, doc_id: str, base_rev: int, title: str | None, fmt: Format | None,
                content: str | None, tags: Sequence[str] | None, asset_id: str | None = None) -> dict[str, Any]:
        fmt, text, asset = self._read(ctx, fmt, content, asset_id)
        run_id = runs.new_run_id()

        def change(doc: Document) -> dict[str, Any]:
            return {**doc.data, "title": title or doc.data["title"], "format": fmt, "text": text,
                    "asset": asset.source() if asset is not None else None,
                    "tags": sorted(set(tags)) if tags is not None else doc.data.get("tags", []),
                    "run_id": run_id, "updated_at": utc_now()}

        def write(tx: Transaction) -> Document:
            after = repository.update(tx, paths.raw_doc(ctx.tenant_id, ctx.env, doc_id), base_rev, what="document",
                                      change=change, event=lambda b, a: DomainEvent(
                                          "nexus.doc_replaced", ctx.tenant_id, ctx.env, a.path,
                                          {"doc_id": doc_id, "rev": a.rev})).after
            self._queue(tx, ctx, doc_id, run_id, None)
            return after

        after = self._store.run_transaction(write)
        return raw_view(after, self._store.get(paths.atoms(ctx.tenant_id, ctx.env, doc_id)))

    def _queue(self, tx: Transaction, ctx: RequestContext, doc_id: str, run_id: str, event: str | None) -> None:
        path = paths.raw_doc(ctx.tenant_id, ctx.env, doc_id)
        if event:
            emit(tx, DomainEvent(event, ctx.tenant_id, ctx.env, path, {"doc_id": doc_id}))
        runs.start(tx, ctx.tenant_id, ctx.env, run_id, "ingest", doc_id=doc_id)
        emit(tx, DomainEvent("nexus.ingest_requested", ctx.tenant_id, ctx.env, path,
                             {"doc_id": doc_id, "run_id": run_id}), topic=INGEST_TOPIC)

    def get(self, ctx: RequestContext, doc_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.raw_doc(ctx.tenant_id, ctx.env, doc_id))
        if doc is None:
            raise errors.NotFound("no such document")
        atoms = self._store.get(paths.atoms(ctx.tenant_id, ctx.env, doc_id))
        view = raw_view(doc, atoms, with_text=True)
        view["atom_list"] = [] if atoms is None else atoms.data.get("atoms", [])
        return view

    def current_rev(self, ctx: RequestContext, doc_id: str) -> int | None:
        doc = self._store.get(paths.raw_doc(ctx.tenant_id, ctx.env, doc_id))
        return None if doc is None else doc.rev

    def list_docs(self, ctx: RequestContext, limit: int, page_token: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.raw_docs(ctx.tenant_id, ctx.env), [], [("created_at", "desc")], limit,
                                       page_token))
        states = self._store.get_many([paths.atoms(ctx.tenant_id, ctx.env, d.doc_id) for d in page.docs])
        return {"documents": [raw_view(d, s) for d, s in zip(page.docs, states, strict=True)],
                "next_page_token": page.next_cursor}

    def delete(self, ctx: RequestContext, doc_id: str, base_rev: int) -> None:
        """The document, its atoms and its cards (so its index entries) in one transaction."""

        def write(tx: Transaction) -> None:
            # queries first: Firestore refuses a query of a collection the transaction already wrote to
            cards = tx.query(Query(paths.cards(ctx.tenant_id, ctx.env), [Filter("source_doc_id", "==", doc_id)],
                                   limit=MAX_ATOMS + 1)).docs
            repository.delete(tx, paths.raw_doc(ctx.tenant_id, ctx.env, doc_id), base_rev, what="document",
                              event=lambda d: DomainEvent("nexus.doc_deleted", ctx.tenant_id, ctx.env, d.path,
                                                          {"doc_id": doc_id, "cards": len(cards)}))
            for card in cards:
                tx.delete(card.path)
            if tx.get(paths.atoms(ctx.tenant_id, ctx.env, doc_id)) is not None:
                tx.delete(paths.atoms(ctx.tenant_id, ctx.env, doc_id))
            index_state.bump(tx, ctx.tenant_id, ctx.env, self._embedder.default_model, cards=-len(cards))

        self._store.run_transaction(write)

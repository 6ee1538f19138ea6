"""Cards: the curated units search finds and agents cite (title, body, tags, source atoms, author).

Ingest writes one card per atom (author: the ``nexus.ingest`` agent); people and agents write their
own. Each write embeds the card for every slot the index needs (embedding.py), then stores it, bumps
the index generation and emits its event in one transaction; the embeddings ride on the card, so the
index cannot disagree with it and a delete removes the card from the index in the same commit.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.nexus import index_state, paths
from studio.nexus.embedding import card_text, vectors_for
from studio.ports.embeddings import Embedder
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction
from studio.ports.vectors import is_vector_field

MAX_CARDS = 20_000  # per tenant and env: the local index holds them in memory


def card_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "title": d["title"], "body": d["body"], "tags": d.get("tags", []),
            "author": d["author"], "source": d.get("source"), "origin": d.get("origin", "manual"),
            "models": sorted(set((d.get("emb") or {}).values())), "rev": doc.rev,
            "created_at": d["created_at"], "updated_at": d.get("updated_at", d["created_at"])}


def card_data(title: str, body: str, tags: Sequence[str], author: dict[str, str], *, origin: str,
              source: dict[str, Any] | None = None, source_doc_id: str | None = None) -> dict[str, Any]:
    now = utc_now()
    return {"title": title, "body": body, "tags": sorted(set(tags)), "author": author, "origin": origin,
            "source": source, "source_doc_id": source_doc_id, "created_at": now, "updated_at": now}


class CardService:
    def __init__(self, store: DocumentStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder

    def state(self, tenant_id: str, env: str) -> index_state.IndexState:
        return index_state.read(self._store, tenant_id, env, self._embedder.default_model)

    def create_many(self, ctx: RequestContext, items: Sequence[tuple[str, str, Sequence[str]]],
                    author: dict[str, str]) -> list[dict[str, Any]]:
        """Cards from (title, body, tags); embedded, stored and indexed in one transaction."""
        state = self.state(ctx.tenant_id, ctx.env)
        vectors = vectors_for(self._embedder, state, [card_text(t, b) for t, b, _ in items])
        ids = ["cd_" + secrets.token_hex(8) for _ in items]

        def write(tx: Transaction) -> list[Document]:
            current = index_state.read_in(tx, ctx.tenant_id, ctx.env, self._embedder.default_model)
            if current.slots() != state.slots():
                raise errors.Unavailable("the index's model changed while embedding; try again")
            docs = []
            for card_id, (title, body, tags), fields in zip(ids, items, vectors, strict=True):
                doc = tx.create(paths.card(ctx.tenant_id, ctx.env, card_id),
                                {**card_data(title, body, tags, author, origin="manual"), **fields})
                emit(tx, DomainEvent("nexus.card_created", ctx.tenant_id, ctx.env, doc.path,
                                     {"card_id": card_id, "author": author}))
                docs.append(doc)
            index_state.bump(tx, ctx.tenant_id, ctx.env, self._embedder.default_model, cards=len(items),
                             limit=MAX_CARDS)
            return docs

        return [card_view(d) for d in self._store.run_transaction(write)]

    def get(self, ctx: RequestContext, card_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.card(ctx.tenant_id, ctx.env, card_id))
        if doc is None:
            raise errors.NotFound("no such card")
        return card_view(doc)

    def current_rev(self, ctx: RequestContext, card_id: str) -> int | None:
        doc = self._store.get(paths.card(ctx.tenant_id, ctx.env, card_id))
        return None if doc is None else doc.rev

    def list_cards(self, ctx: RequestContext, tag: str | None, limit: int, page_token: str | None) -> dict[str, Any]:
        filters = [Filter("tags", "array_contains", tag)] if tag else []
        page = self._store.query(Query(paths.cards(ctx.tenant_id, ctx.env), filters, [("created_at", "desc")], limit,
                                       page_token))
        return {"cards": [card_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def edit(self, ctx: RequestContext, card_id: str, base_rev: int, changes: dict[str, Any]) -> dict[str, Any]:
        path = paths.card(ctx.tenant_id, ctx.env, card_id)
        before = self._store.get(path)
        if before is None:
            raise errors.NotFound("no such card")
        title, body = changes.get("title", before.data["title"]), changes.get("body", before.data["body"])
        state = self.state(ctx.tenant_id, ctx.env)
        fields = vectors_for(self._embedder, state, [card_text(title, body)])[0]

        def change(doc: Document) -> dict[str, Any]:
            kept = {k: v for k, v in doc.data.items() if not is_vector_field(k)}
            tags = sorted(set(changes["tags"])) if "tags" in changes else doc.data.get("tags", [])
            return {**kept, "title": title, "body": body, "tags": tags, "updated_at": utc_now(), **fields}

        def write(tx: Transaction) -> Document:
            current = index_state.read_in(tx, ctx.tenant_id, ctx.env, self._embedder.default_model)
            if current.slots() != state.slots():
                raise errors.Unavailable("the index's model changed while embedding; try again")
            after = repository.update(
                tx, path, base_rev, what="card", change=change,
                event=lambda b, a: DomainEvent("nexus.card_updated", ctx.tenant_id, ctx.env, a.path,
                                               {"card_id": card_id, "rev": a.rev})).after
            index_state.bump(tx, ctx.tenant_id, ctx.env, self._embedder.default_model)
            return after

        return card_view(self._store.run_transaction(write))

    def delete(self, ctx: RequestContext, card_id: str, base_rev: int) -> None:
        def write(tx: Transaction) -> None:
            repository.delete(tx, paths.card(ctx.tenant_id, ctx.env, card_id), base_rev, what="card",
                              event=lambda d: DomainEvent("nexus.card_deleted", ctx.tenant_id, ctx.env, d.path,
                                                          {"card_id": card_id}))
            index_state.bump(tx, ctx.tenant_id, ctx.env, self._embedder.default_model, cards=-1)

        self._store.run_transaction(write)



"""HTTP routes of Nexus: raw documents, cards, search, settings, runs and influence packs
(memory_routes.py: memory and blackboards; explorer_routes.py: the vector explorer)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.query_spec import Int, QuerySpec, Text
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.nexus.explorer_routes import explorer
from studio.nexus.memory_routes import memory
from studio.nexus.services import nexus_services

if TYPE_CHECKING:
    from studio.nexus import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.nexus.models")

# restates m.ListQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
LIST = QuerySpec(m.ListQuery, {"limit": Int(ge=1, le=200, default=50), "page_token": Text(max_length=2000)})

nexus = Router("nexus")


@nexus.tenant("POST", "/nexus/raw", role=Role.MEMBER, body=m.RawDocIn, response=m.RawDocOut, status=202)
def submit_raw(call: Call) -> Any:
    """Store a document (text, Markdown, HTML, or PDF as base64; or an uploaded document asset of /media-v2)
    and queue its ingest; progress on the meta channel."""
    b = call.body
    return nexus_services(call.deps).raw.submit(call.need_ctx(), b.title, b.format, b.content, b.tags, b.asset_id)


@nexus.tenant("GET", "/nexus/raw", role=Role.VIEWER, query=LIST, response=m.RawDocList)
def list_raw(call: Call) -> Any:
    """The tenant's documents, newest first, with their ingest status."""
    return nexus_services(call.deps).raw.list_docs(call.need_ctx(), call.query.limit, call.query.page_token)


@nexus.tenant("GET", "/nexus/raw/{doc_id}", role=Role.VIEWER, response=m.RawDocDetail)
def get_raw(call: Call) -> Any:
    """One document with its text and atoms (offsets into the text)."""
    return nexus_services(call.deps).raw.get(call.need_ctx(), call.params["doc_id"])


def _raw_rev(call: Call) -> int | None:
    return nexus_services(call.deps).raw.current_rev(call.need_ctx(), call.params["doc_id"])


@nexus.tenant("PUT", "/nexus/raw/{doc_id}", role=Role.MEMBER, body=m.RawDocReplace, response=m.RawDocOut,
              revisioned=True, current_rev=_raw_rev)
def replace_raw(call: Call) -> Any:
    """Replace a document's content and re-ingest it (its atoms and cards are replaced atomically)."""
    b = call.body
    return nexus_services(call.deps).raw.replace(call.need_ctx(), call.params["doc_id"], call.expected_rev(), b.title,
                                                 b.format, b.content, b.tags, b.asset_id)


@nexus.tenant("DELETE", "/nexus/raw/{doc_id}", role=Role.MEMBER, query=RevisionQuery, status=204, revisioned=True,
              current_rev=_raw_rev)
def delete_raw(call: Call) -> Any:
    """Delete a document with its atoms and cards (and so its index entries)."""
    nexus_services(call.deps).raw.delete(call.need_ctx(), call.params["doc_id"], call.expected_rev())
    return Reply(None, status=204)


@nexus.tenant("POST", "/nexus/cards", role=Role.MEMBER, body=m.CardIn, response=m.CardOut, status=201)
def create_card(call: Call) -> Any:
    """Write a card (embedded and indexed at once); its author is the caller."""
    ctx = call.need_ctx()
    b = call.body
    return nexus_services(call.deps).cards.create_many(ctx, [(b.title, b.body, b.tags)],
                                                       {"kind": "person", "id": ctx.user_id})[0]


@nexus.tenant("GET", "/nexus/cards", role=Role.VIEWER, query=m.CardListQuery, response=m.CardList)
def list_cards(call: Call) -> Any:
    """Cards, newest first; ?tag= keeps those carrying it."""
    q = call.query
    return nexus_services(call.deps).cards.list_cards(call.need_ctx(), q.tag, q.limit, q.page_token)


@nexus.tenant("GET", "/nexus/cards/{card_id}", role=Role.VIEWER, response=m.CardOut)
def get_card(call: Call) -> Any:
    """One card with its provenance."""
    return nexus_services(call.deps).cards.get(call.need_ctx(), call.params["card_id"])


def _card_rev(call: Call) -> int | None:
    return nexus_services(call.deps).cards.current_rev(call.need_ctx(), call.params["card_id"])


@nexus.tenant("PATCH", "/nexus/cards/{card_id}", role=Role.MEMBER, body=m.CardPatch, response=m.CardOut,
              revisioned=True, current_rev=_card_rev)
def edit_card(call: Call) -> Any:
    """Edit a card (re-embedded); needs If-Match or base_rev."""
    changes = call.body.model_dump(exclude_unset=True, exclude={"base_rev"})
    changes = {k: v for k, v in changes.items() if v is not None}
    return nexus_services(call.deps).cards.edit(call.need_ctx(), call.params["card_id"], call.expected_rev(), changes)


@nexus.tenant("DELETE", "/nexus/cards/{card_id}", role=Role.MEMBER, query=RevisionQuery, status=204,
              revisioned=True, current_rev=_card_rev)
def delete_card(call: Call) -> Any:
    """Delete a card (and its index entry, in the same commit)."""
    nexus_services(call.deps).cards.delete(call.need_ctx(), call.params["card_id"], call.expected_rev())
    return Reply(None, status=204)


@nexus.tenant("GET", "/nexus/search", role=Role.VIEWER, query=m.SearchQuery, response=m.SearchOut)
def search(call: Call) -> Any:
    """Search cards by meaning (vector), by exact words (keyword, BM25) or both (hybrid, reciprocal rank fusion)."""
    q = call.query
    tags = [t.strip() for t in (q.tags or "").split(",") if t.strip()][:10]
    return nexus_services(call.deps).search.search(call.need_ctx(), q.q, q.k, q.mode, tags)


@nexus.tenant("GET", "/nexus/runs", role=Role.VIEWER, query=m.RunListQuery, response=m.RunList)
def list_runs(call: Call) -> Any:
    """Ingest and index runs, newest first, with status and counts."""
    q = call.query
    return nexus_services(call.deps).runs.list_runs(call.need_ctx(), q.kind, q.limit, q.page_token)


@nexus.tenant("GET", "/nexus/runs/{run_id}", role=Role.VIEWER, response=m.RunOut)
def get_run(call: Call) -> Any:
    """One run."""
    return nexus_services(call.deps).runs.get(call.need_ctx(), call.params["run_id"])


@nexus.tenant("GET", "/nexus/settings", role=Role.VIEWER, response=m.SettingsOut)
def get_settings(call: Call) -> Any:
    """Chunking, hybrid weights and the embedding model (with a change in progress), each with its rev."""
    return nexus_services(call.deps).settings.view(call.need_ctx())


def _settings_rev(section: str) -> Any:
    def resolve(call: Call) -> int | None:
        return nexus_services(call.deps).settings.current_rev(call.need_ctx(), section)

    return resolve


@nexus.tenant("PUT", "/nexus/settings/chunking", role=Role.ADMIN, body=m.ChunkingIn, response=m.ChunkingOut,
              revisioned=True, current_rev=_settings_rev("chunking"))
def put_chunking(call: Call) -> Any:
    """Atom size and overlap for the next ingests (base_rev 0 the first time)."""
    values = call.body.model_dump(exclude={"base_rev"})
    return nexus_services(call.deps).settings.put(call.need_ctx(), "chunking", values, call.expected_rev())


@nexus.tenant("PUT", "/nexus/settings/hybrid", role=Role.ADMIN, body=m.HybridIn, response=m.HybridOut,
              revisioned=True, current_rev=_settings_rev("hybrid"))
def put_hybrid(call: Call) -> Any:
    """Weights of keyword and vector ranks in hybrid search, and RRF's k."""
    values = call.body.model_dump(exclude={"base_rev"})
    return nexus_services(call.deps).settings.put(call.need_ctx(), "hybrid", values, call.expected_rev())


@nexus.tenant("PUT", "/nexus/settings/model", role=Role.ADMIN, body=m.ModelIn, response=m.ModelOut,
              revisioned=True, current_rev=_settings_rev("model"))
def put_model(call: Call) -> Any:
    """The tenant's embedding model: a change re-embeds every card in the background; search uses the old
    index until the new one is complete."""
    return nexus_services(call.deps).settings.put(call.need_ctx(), "model", {"model": call.body.model},
                                                  call.expected_rev())


@nexus.tenant("POST", "/nexus/influence-pack", role=Role.VIEWER, body=m.PackIn, response=m.PackOut)
def influence_pack(call: Call) -> Any:
    """Ranked card references for a query or a thread's recent memory, with scores and snippets, within a token budget."""
    b = call.body
    return nexus_services(call.deps).packs.pack(call.need_ctx(), b.query, b.thread_id, b.k, b.budget_tokens)


ROUTERS = (nexus, memory, explorer)

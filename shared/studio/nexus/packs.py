"""Influence packs (CAPABILITIES H28): the cards an agent is given for a turn, ranked by hybrid search,
kept within a token budget, with scores and snippets. The chat pipeline puts the pack in the agent's
prompt and lists its cards in the reply's metadata (agents/pipeline.py), so the frontend can show
sources."""
from __future__ import annotations

from typing import Any

from studio.kernel import errors
from studio.kernel.context import RequestContext
from studio.nexus.atoms import estimate_tokens
from studio.nexus.memory import MemoryService
from studio.nexus.search import SearchService

SNIPPET_CHARS = 600


class PackService:
    def __init__(self, search: SearchService, memory: MemoryService) -> None:
        self._search = search
        self._memory = memory

    def pack(self, ctx: RequestContext, query: str | None, thread_id: str | None, k: int,
             budget_tokens: int) -> dict[str, Any]:
        if not query and thread_id:
            self._memory.session(ctx, thread_id, 1)  # the thread must exist in this tenant (404 otherwise)
            query = self._memory.recent_text(ctx.tenant_id, ctx.env, thread_id)
        if not query:
            raise errors.StudioError(errors.VALIDATION_FAILED, "give a query, or a thread whose memory has messages")
        found = self._search.search(ctx, query, k, "hybrid", snippet_chars=SNIPPET_CHARS)
        cards, used = [], 0
        for r in found["results"]:
            tokens = estimate_tokens(f"{r['title']}\n{r['snippet']}")
            if used + tokens > budget_tokens:
                continue  # a smaller card further down may still fit
            used += tokens
            cards.append({"card_id": r["card_id"], "title": r["title"], "score": r["score"], "snippet": r["snippet"],
                          "tokens": tokens, "provenance": r["provenance"]})
        return {"query": query, "thread_id": thread_id, "model": found["model"], "cards": cards,
                "budget_tokens": budget_tokens, "used_tokens": used}

    def prompt_block(self, pack: dict[str, Any]) -> str:
        """The pack as the agent reads it: numbered cards it may cite by title."""
        lines = ["Studio knowledge (Nexus cards; cite a card by its title when you use it):"]
        for n, card in enumerate(pack["cards"], start=1):
            lines.append(f"[{n}] {card['title']}: {card['snippet']}")
        return "\n".join(lines)

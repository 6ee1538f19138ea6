"""The nexus domain's built-in tool (issue 12, H28): search the tenant's cards, the read-only way an agent
or an outside MCP client reaches the knowledge base through the one governed path (``studio.tools``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.roles import Role
from studio.kernel.tools import ToolInvocation, ToolSpec

if TYPE_CHECKING:
    from studio.kernel.deps import Deps
    from studio.nexus.services import NexusServices


def nexus_services(deps: Deps) -> NexusServices:
    """The domain's services, imported when a tool runs: listing the tools (every domain's specs, on the
    tools function's first request) imports no domain's services (decision 0097)."""
    from studio.nexus.services import nexus_services as services

    return services(deps)


def _search(call: ToolInvocation) -> dict[str, Any]:
    i = call.input
    tags = [t.strip() for t in i.get("tags", []) if t.strip()][:10]
    return nexus_services(call.deps).search.search(call.ctx, i["q"], int(i.get("k", 10)), i.get("mode", "hybrid"),
                                                   tags)


_NUM = {"type": ["number", "null"]}
_INT = {"type": ["integer", "null"]}

TOOLS = (
    ToolSpec(
        "nexus.search", "1.0.0", "Search the knowledge base",
        "The tenant's cards that answer a query, by meaning (vector), by exact words (keyword, BM25) or both "
        "(hybrid, reciprocal rank fusion), with scores, the matched snippet and each card's provenance. "
        "Reads the index, changes nothing.",
        {"type": "object", "additionalProperties": False, "required": ["q"],
         "properties": {"q": {"type": "string", "minLength": 1, "maxLength": 1000},
                        "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                        "mode": {"enum": ["hybrid", "vector", "keyword"], "default": "hybrid"},
                        "tags": {"type": "array", "maxItems": 10,
                                 "items": {"type": "string", "minLength": 1, "maxLength": 40},
                                 "description": "cards carrying all of them"}}},
        {"type": "object", "required": ["query", "mode", "k", "model", "results"],
         "properties": {
             "query": {"type": "string"}, "mode": {"type": "string"}, "k": {"type": "integer"},
             "model": {"type": "string"}, "took_ms": {"type": "number"},
             "results": {"type": "array", "items": {
                 "type": "object", "required": ["card_id", "title", "tags", "score", "snippet", "provenance"],
                 "properties": {
                     "card_id": {"type": "string"}, "title": {"type": "string"},
                     "tags": {"type": "array", "items": {"type": "string"}}, "score": {"type": "number"},
                     "scores": {"type": "object", "properties": {"keyword": _NUM, "keyword_rank": _INT,
                                                                  "vector": _NUM, "vector_rank": _INT}},
                     "snippet": {"type": "string"},
                     "provenance": {"type": "object", "required": ["origin", "author"]}}}}}},
        _search, danger="none", side_effects="read", idempotent=True, required_role=Role.VIEWER,
    ),
)

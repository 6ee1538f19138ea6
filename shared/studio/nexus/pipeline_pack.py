"""What the agent pipeline asks Nexus for on each turn: the influence pack for the user's message, as a
prompt block and the list of card references the reply's metadata carries (CAPABILITIES H28)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.kernel.context import Principal, RequestContext
from studio.kernel.deps import Deps
from studio.kernel.roles import Role
from studio.nexus.services import nexus_services

PACK_K = 5
PACK_BUDGET_TOKENS = 600  # the local model's window is small: the pack must leave room for the history


def influence_source(deps: Deps) -> Callable[[str, str, str], tuple[str, list[dict[str, Any]]]]:
    def pack(tenant_id: str, env: str, text: str) -> tuple[str, list[dict[str, Any]]]:
        services = nexus_services(deps)
        if services.cards.state(tenant_id, env).cards == 0:
            return "", []  # an empty knowledge base: no model load, no search
        ctx = RequestContext(tenant_id, env, Principal("system:agent_pipeline", is_system=True), Role.VIEWER)
        found = services.packs.pack(ctx, text, None, PACK_K, PACK_BUDGET_TOKENS)
        if not found["cards"]:
            return "", []
        refs = [{"card_id": c["card_id"], "title": c["title"], "score": c["score"]} for c in found["cards"]]
        return services.packs.prompt_block(found), refs

    return pack

"""Builds the agent pipeline from the ports, once per instance."""
from __future__ import annotations

from studio.agents.pipeline import AgentPipeline
from studio.chat.services import chat_services
from studio.events.routes import events_services
from studio.kernel.deps import Deps, Slot
from studio.nexus.pipeline_pack import influence_source

AGENT_PIPELINE: Slot[AgentPipeline] = Slot("agent_pipeline")


def agent_pipeline(deps: Deps) -> AgentPipeline:
    def build() -> AgentPipeline:
        # Governance gates (kill switches, budgets, licences) are added to this list as they land.
        return AgentPipeline(deps.store, chat_services(deps).messages, deps.llm, events_services(deps).logger, gates=[],
                             influence=influence_source(deps))

    return deps.memo(AGENT_PIPELINE, build)

"""Builds the agent pipeline from the ports, once per instance."""
from __future__ import annotations

from studio.agents.governance import ModelCallGovernance
from studio.agents.pipeline import AgentPipeline
from studio.agents.tool_calls import AgentTools
from studio.chat.services import chat_services
from studio.events.routes import events_services
from studio.governance.services import governance_services
from studio.kernel.deps import Deps, Slot
from studio.nexus.pipeline_pack import influence_source
from studio.runtime_config.services import runtime_config_services
from studio.tools.services import tools_services

AGENT_PIPELINE: Slot[AgentPipeline] = Slot("agent_pipeline")


def agent_pipeline(deps: Deps) -> AgentPipeline:
    def build() -> AgentPipeline:
        gov = governance_services(deps)  # kill switches, locks, budgets and corridors on every model call
        return AgentPipeline(deps.store, chat_services(deps).messages, deps.llm, events_services(deps).logger, gates=[],
                             governance=ModelCallGovernance(gov.gates, gov.corridors),
                             tools=AgentTools(tools_services(deps).catalog, tools_services(deps).invoker, deps.memberships),
                             models=runtime_config_services(deps).configs, influence=influence_source(deps))

    return deps.memo(AGENT_PIPELINE, build)

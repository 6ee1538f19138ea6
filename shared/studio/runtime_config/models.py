"""API shapes of the runtime configuration (the audit's runtime_config/selecta): which provider and model
each agent and the embeddings use, per tenant and env."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from studio.byok.providers import ProviderName
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision

MAX_AGENTS = 50
AGENT_ID = r"^[a-z0-9_-]{1,64}$"  # as chat's thread agent_id
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$"


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ModelChoice(_In):
    provider: ProviderName
    model: str | None = Field(default=None, pattern=MODEL_NAME,
                              description="The provider's model; null: the deployment's default for that provider")


class RuntimeConfigIn(_In):
    agents: dict[str, ModelChoice] = Field(default_factory=dict, max_length=MAX_AGENTS,
                                           description="Per agent id (e.g. muse); agents left out use the default")
    default: ModelChoice | None = Field(default=None, description="For every agent not named; null: the deployment's")
    embeddings: ModelChoice | None = None
    base_rev: Revision | None = Field(default=None, description="Or If-Match; 0 for the first write")


class ModelChoiceOut(ApiModel):
    provider: ProviderName
    model: str | None


class RuntimeConfigOut(ApiModel):
    agents: dict[str, ModelChoiceOut]
    default: ModelChoiceOut = Field(description="What an agent not named in agents uses")
    embeddings: ModelChoiceOut | None
    deployed_provider: ProviderName = Field(description="The provider this deployment's agent pipeline runs")
    rev: int
    updated_at: str | None

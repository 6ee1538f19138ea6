"""Command envelope (CAPABILITIES C10): ``POST /commands`` dispatches by ``type`` to a
handler registered in an explicit table; each type publishes its payload's JSON Schema.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision

# The table of types lives apart, without pydantic: a function that only holds it (governance's
# three-wise questions) does not import the envelope's models until a command is read (decision 0097).
from studio.kernel.command_registry import CommandOutcome as CommandOutcome
from studio.kernel.command_registry import CommandRegistry as CommandRegistry
from studio.kernel.command_registry import CommandType as CommandType
from studio.kernel.command_registry import Handler as Handler


class CommandTarget(ApiModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=200)


class CommandEnvelope(ApiModel):
    model_config = ConfigDict(extra="forbid")
    command_id: str = Field(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    type: str = Field(min_length=1, max_length=100)
    target: CommandTarget
    base_rev: Revision
    payload: dict[str, Any] = Field(default_factory=dict)


class CommandTypes(BaseModel):  # GET /commands/types (a plain BaseModel, as it always was)
    types: list[dict[str, Any]]


class EventSummary(ApiModel):
    id: str
    type: str
    subject: str


class CommandResult(ApiModel):
    status: Literal["applied"] = "applied"
    target: CommandTarget
    new_rev: int
    events: list[EventSummary] = Field(default_factory=list)

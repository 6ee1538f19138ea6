"""Command envelope (CAPABILITIES C10): ``POST /commands`` dispatches by ``type`` to a
handler registered in an explicit table; each type publishes its payload's JSON Schema.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from studio.kernel import errors
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision
from studio.kernel.context import RequestContext
from studio.kernel.roles import Role

if TYPE_CHECKING:
    from studio.kernel.deps import Deps


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


class EventSummary(ApiModel):
    id: str
    type: str
    subject: str


class CommandResult(ApiModel):
    status: Literal["applied"] = "applied"
    target: CommandTarget
    new_rev: int
    events: list[EventSummary] = Field(default_factory=list)


@dataclass(frozen=True)
class CommandOutcome:
    new_rev: int
    events: list[dict[str, str]] = field(default_factory=list)


Handler = Callable[["Deps", RequestContext, str, int, Any], CommandOutcome]


@dataclass(frozen=True)
class CommandType:
    name: str
    target_kind: str
    payload: type[BaseModel]
    role: Role
    handler: Handler  # (deps, ctx, target_id, base_rev, payload) -> outcome
    summary: str = ""


class CommandRegistry:
    def __init__(self, types: Iterable[CommandType]) -> None:
        self._types = {t.name: t for t in types}

    def get(self, name: str) -> CommandType:
        try:
            return self._types[name]
        except KeyError:
            raise errors.StudioError(errors.UNKNOWN_COMMAND_TYPE, f"unknown command type {name!r}") from None

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"type": t.name, "target_kind": t.target_kind, "role": t.role.value, "summary": t.summary,
             "payload_schema": t.payload.model_json_schema()}
            for t in sorted(self._types.values(), key=lambda t: t.name)
        ]

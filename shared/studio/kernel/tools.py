"""Tool declarations (issue 9, G25): what a domain registers so that a person, an agent or an outside
MCP client may invoke one of its operations through the one governed path (``studio.tools``).

A domain lists its built-in tools in ``<domain>/tools.py`` as ``TOOLS = (ToolSpec(...), ...)`` and names
that tuple in its row (``tools="studio.<domain>.tools:TOOLS"``), as it does its ``COMMANDS``. The handler
never checks roles, licences, kill switches, budgets, schemas or policy: the invoke path has done all of
that before it runs and validates what it returns. It receives a ``ToolInvocation`` and returns a JSON
object matching ``output_schema``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from studio.kernel.roles import Role

if TYPE_CHECKING:
    from pydantic import BaseModel

    from studio.kernel.context import RequestContext
    from studio.kernel.deps import Deps

Danger = Literal["none", "low", "high", "critical"]
SideEffects = Literal["none", "read", "write", "external"]
CallerKind = Literal["user", "agent", "api_client"]

DANGERS: tuple[Danger, ...] = ("none", "low", "high", "critical")
SIDE_EFFECTS: tuple[SideEffects, ...] = ("none", "read", "write", "external")
TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,47}$")  # domain.verb
SEMVER = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")


@dataclass(frozen=True)
class ToolCost:
    """The estimate the budget reserves before the call (settled with the measured usage after)."""

    usd: float = 0.0
    tokens: int = 0


@dataclass(frozen=True)
class ToolInvocation:
    """One call of a tool, after every gate passed. ``ctx`` is the tenant, env and principal the call acts
    for (an agent acts with the thread author's tenant and its own principal); ``caller_kind`` and
    ``caller_id`` are the subject the gates judged."""

    deps: Deps
    ctx: RequestContext
    caller_kind: CallerKind
    caller_id: str
    tool: str
    version: str
    input: Mapping[str, Any]
    base_rev: int | None = None
    idempotency_key: str | None = None


ToolHandler = Callable[[ToolInvocation], dict[str, Any]]


@dataclass(frozen=True)
class ToolSpec:
    name: str  # "domain.verb"
    version: str  # semver; older versions stay invocable as name@version
    title: str
    description: str
    input_model: type[BaseModel] | Mapping[str, Any]  # a pydantic model or a JSON Schema 2020-12 object schema
    output_schema: Mapping[str, Any]
    handler: ToolHandler
    danger: Danger = "none"
    side_effects: SideEffects = "none"
    idempotent: bool = False
    required_role: Role = Role.MEMBER
    licence_required: bool = False
    cost: ToolCost = field(default_factory=ToolCost)
    destructive: bool = False  # deletes or overwrites: base_rev required even at low danger

    def __post_init__(self) -> None:
        if not TOOL_NAME.match(self.name):
            raise ValueError(f"tool name {self.name!r} is not 'domain.verb'")
        if not SEMVER.match(self.version):
            raise ValueError(f"{self.name}: version {self.version!r} is not MAJOR.MINOR.PATCH")
        if self.danger not in DANGERS or self.side_effects not in SIDE_EFFECTS:
            raise ValueError(f"{self.name}: danger {self.danger!r} / side effects {self.side_effects!r}")

    @property
    def needs_base_rev(self) -> bool:
        """A destructive call names the revision it acts on, so it never destroys what it did not see."""
        return self.destructive or self.danger in ("high", "critical")

    @property
    def needs_idempotency_key(self) -> bool:
        return not self.idempotent

    def input_schema(self) -> dict[str, Any]:
        """The input's JSON Schema (2020-12): the model's, or the declared dict."""
        if isinstance(self.input_model, Mapping):
            return dict(self.input_model)
        schema = self.input_model.model_json_schema()
        schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        return schema

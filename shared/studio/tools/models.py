"""The tools API's shapes: registry entries, tenant HTTP tool definitions, invocations, exports."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, JsonValue

from studio.kernel.api_model import MAX_REV, ApiModel
from studio.kernel.api_types import MAX_SAFE_INT, Revision, StrictInt, strict_int
from studio.kernel.roles import Role

SEMVER_PATTERN = r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,47}$"
REF_PATTERN = r"^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,47}(@(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5}))?$"


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, allow_inf_nan=False)


class ToolCostModel(_In):
    usd: float = Field(default=0.0, ge=0, le=1_000)
    tokens: StrictInt = Field(default=0, ge=0, le=10_000_000)


class HttpToolIn(_In):
    """A tenant's HTTP tool: the platform POSTs the validated input as JSON to ``url`` and returns its JSON answer."""

    version: str = Field(pattern=SEMVER_PATTERN, description="A new semver; older versions stay invocable as name@version")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2_000)
    input_schema: dict[str, JsonValue] = Field(description="JSON Schema 2020-12 of an object")
    output_schema: dict[str, JsonValue] = Field(description="JSON Schema 2020-12 of an object")
    danger: Literal["none", "low", "high", "critical"] = "low"
    side_effects: Literal["external"] = "external"
    idempotent: bool = False
    destructive: bool = False
    required_role: Role = Role.MEMBER
    licence_required: bool = False
    cost: ToolCostModel = Field(default_factory=ToolCostModel)
    url: str = Field(min_length=8, max_length=2_000, description="https://... on a public address (SSRF guard)")
    base_rev: Revision | None = None


class ToolOut(ApiModel):
    name: str
    version: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    danger: str
    side_effects: str
    idempotent: bool
    destructive: bool
    required_role: Role
    licence_required: bool
    cost: dict[str, Any]
    builtin: bool
    url: str | None = None
    versions: list[str] = Field(default_factory=list)
    rev: int | None = None


class ToolList(ApiModel):
    tools: list[ToolOut]


class InvokeIn(_In):
    input: dict[str, JsonValue] = Field(default_factory=dict)
    base_rev: int | None = Field(default=None, ge=0, le=MAX_REV,
                                 description="Required by a destructive tool: the revision of what it acts on")


class Usage(ApiModel):
    usd: float
    tokens: int
    duration_ms: int


class InvokeOut(ApiModel):
    tool: str
    version: str
    output: dict[str, Any]
    usage: Usage
    audit_id: str
    replayed: bool = False


class McpExport(ApiModel):
    tools: list[dict[str, Any]]


class OpenAiExport(ApiModel):
    tools: list[dict[str, Any]]


# A JSON-RPC id a client picks: any integer JavaScript can hold exactly (or a string).
JsonRpcId = Annotated[int, Field(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT), BeforeValidator(strict_int)]


class JsonRpcRequest(_In):
    """One JSON-RPC 2.0 message of MCP's streamable HTTP transport (a request, or a notification without id)."""

    jsonrpc: Literal["2.0"]
    id: JsonRpcId | str | None = Field(default=None)
    method: str = Field(min_length=1, max_length=100)
    params: dict[str, JsonValue] | None = None

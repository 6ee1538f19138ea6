"""The registry in the shapes outside agents read: MCP's ``tools/list`` entries and OpenAI's strict
function schemas. Both derive from the one ToolSpec, so no export can drift from what the invoke path
validates."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from studio.kernel.tools import ToolSpec

OPENAI_SEPARATOR = "__"  # OpenAI function names are ^[A-Za-z0-9_-]{1,64}$: no dots


def mcp_annotations(spec: ToolSpec) -> dict[str, Any]:
    """MCP's behaviour hints, from danger and side effects (hints for a client, never trusted by us)."""
    return {"title": spec.title,
            "readOnlyHint": spec.side_effects in ("none", "read"),
            "destructiveHint": spec.needs_base_rev,
            "idempotentHint": spec.idempotent,
            "openWorldHint": spec.side_effects == "external"}


def mcp_tool(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "title": spec.title, "description": spec.description,
            "inputSchema": spec.input_schema(), "outputSchema": dict(spec.output_schema),
            "annotations": mcp_annotations(spec),
            "_meta": {"io.studio/version": spec.version, "io.studio/danger": spec.danger,
                      "io.studio/required_role": spec.required_role.value,
                      "io.studio/licence_required": spec.licence_required}}


def openai_name(tool_name: str) -> str:
    return tool_name.replace(".", OPENAI_SEPARATOR)


def tool_name_from_openai(function_name: str) -> str:
    return function_name.replace(OPENAI_SEPARATOR, ".", 1)


def openai_tool(spec: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "function": {
        "name": openai_name(spec.name), "description": f"{spec.title}. {spec.description}"[:1024],
        "parameters": strict_schema(spec.input_schema()), "strict": True}}


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI structured outputs' subset: every object closed with all its properties required, an
    optional property made nullable instead, no defaults."""
    out = copy.deepcopy(dict(schema))
    out.pop("$schema", None)
    strict: dict[str, Any] = _strict(out)
    return strict


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _strict(v) for k, v in node.items() if k != "default"}
    if node.get("type") == "object" or "properties" in node:
        props: dict[str, Any] = node.get("properties") or {}
        required = set(node.get("required") or ())
        node["properties"] = {name: (sub if name in required else _nullable(sub)) for name, sub in props.items()}
        node["required"] = list(props)
        node["additionalProperties"] = False
    return node


def _nullable(sub: dict[str, Any]) -> dict[str, Any]:
    kind = sub.get("type")
    if isinstance(kind, str):
        return dict(sub, type=[kind, "null"]) if kind != "null" else sub
    if isinstance(kind, list):
        return dict(sub, type=[*kind, "null"]) if "null" not in kind else sub
    return {"anyOf": [sub, {"type": "null"}]}


def from_strict_arguments(spec: ToolSpec, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """A strict call's arguments back in the tool's own shape: an optional field sent as null is omitted."""
    schema = spec.input_schema()
    required = set(schema.get("required") or ())
    return {k: v for k, v in arguments.items() if v is not None or k in required}

"""The registry's export shapes (studio/tools/exports.py): OpenAI strict schemas close every object and
make optional fields nullable; MCP annotations follow danger and side effects."""
from __future__ import annotations

from studio.kernel.roles import Role
from studio.kernel.tools import ToolSpec
from studio.tools.exports import (
    from_strict_arguments,
    mcp_tool,
    openai_tool,
    strict_schema,
    tool_name_from_openai,
)

NESTED = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["a"],
          "properties": {"a": {"type": "string"}, "b": {"type": "integer", "default": 3},
                         "c": {"type": "object", "properties": {"d": {"type": "string"}}},
                         "e": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                         "f": {"type": "array", "items": {"type": "object", "properties": {"g": {"type": "boolean"}}}}}}


def _spec(**kw: object) -> ToolSpec:
    return ToolSpec("demo.run", "1.2.3", "Run", "Runs", NESTED, {"type": "object"}, lambda i: {}, **kw)  # type: ignore[arg-type]


def test_strict_schema_closes_objects_and_makes_optional_fields_nullable() -> None:
    s = strict_schema(NESTED)
    assert "$schema" not in s and s["additionalProperties"] is False and s["required"] == ["a", "b", "c", "e", "f"]
    assert s["properties"]["a"] == {"type": "string"}
    assert s["properties"]["b"] == {"type": ["integer", "null"]}  # no default left
    inner = s["properties"]["c"]
    assert inner["type"] == ["object", "null"] and inner["additionalProperties"] is False and inner["required"] == ["d"]
    assert inner["properties"]["d"] == {"type": ["string", "null"]}
    assert s["properties"]["e"] == {"anyOf": [NESTED["properties"]["e"], {"type": "null"}]}
    assert s["properties"]["f"]["items"]["additionalProperties"] is False
    assert NESTED["properties"]["b"]["default"] == 3  # the tool's own schema is untouched


def test_openai_names_round_trip_and_nulls_drop_back_out() -> None:
    tool = openai_tool(_spec())
    assert tool["function"]["name"] == "demo__run" and tool["function"]["strict"] is True
    assert tool_name_from_openai("demo__run") == "demo.run"
    assert from_strict_arguments(_spec(), {"a": "x", "b": None, "c": None}) == {"a": "x"}


def test_mcp_annotations_follow_danger_and_side_effects() -> None:
    read = mcp_tool(_spec(side_effects="read", idempotent=True))["annotations"]
    assert read["readOnlyHint"] and read["idempotentHint"] and not read["destructiveHint"] and not read["openWorldHint"]
    risky = mcp_tool(_spec(danger="high", side_effects="external", required_role=Role.ADMIN))
    assert risky["annotations"]["destructiveHint"] and risky["annotations"]["openWorldHint"]
    assert not risky["annotations"]["readOnlyHint"]
    assert risky["_meta"]["io.studio/required_role"] == "admin" and risky["inputSchema"] == NESTED

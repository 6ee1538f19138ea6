"""The tools domain's own codes: the invoke path's refusals that no other domain raises. The gates'
codes (KILL_SWITCH_ACTIVE, STRATEGY_LOCKED, LICENCE_REQUIRED, BUDGET_EXCEEDED) are governance's,
POLICY_BLOCKED is privacy's."""
from __future__ import annotations

from studio.kernel.errors import register

TOOL_NOT_FOUND = register("TOOL_NOT_FOUND", 404, "No such tool or tool version")
TOOL_INPUT_INVALID = register("TOOL_INPUT_INVALID", 422, "The tool's input does not match its input schema")
TOOL_OUTPUT_INVALID = register("TOOL_OUTPUT_INVALID", 502, "The tool's output does not match its output schema")
TOOL_FAILED = register("TOOL_FAILED", 502, "The tool failed")
TOOL_SCHEMA_INVALID = register("TOOL_SCHEMA_INVALID", 422, "A tool schema is not a valid JSON Schema 2020-12 object schema")
TOOL_NAME_RESERVED = register("TOOL_NAME_RESERVED", 409, "A built-in tool has this name")
TOOL_VERSION_EXISTS = register("TOOL_VERSION_EXISTS", 409, "This tool version exists already; versions never change")
IDEMPOTENCY_KEY_REQUIRED = register("IDEMPOTENCY_KEY_REQUIRED", 428, "This tool is not idempotent: send an Idempotency-Key")
TOOL_URL_REFUSED = register("TOOL_URL_REFUSED", 422, "The tool's URL points where tools may not call")

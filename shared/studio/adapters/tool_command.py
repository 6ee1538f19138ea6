"""The local responders' tool calls: a user turn ``/tool <name> <json object>`` asks for that tool, so the
whole agent loop (call, gates, result) runs offline with the echo responder or the local model."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from studio.ports.llm import ToolCall, Turn

PREFIX = "/tool "


def requested_tool(turns: Sequence[Turn], tools: Sequence[Mapping[str, Any]]) -> ToolCall | str | None:
    """The ToolCall the last user turn asks for; a str saying why it cannot be called; None if it asks none."""
    last = next((t.text for t in reversed(turns) if t.role == "user"), "")
    if not last.startswith(PREFIX):
        return None
    if not tools:
        return "no tools are offered to this agent"
    name, _, raw = last[len(PREFIX):].strip().partition(" ")
    try:
        arguments = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return f"the arguments of /tool {name} are not JSON"
    if not isinstance(arguments, dict):
        return f"the arguments of /tool {name} must be a JSON object"
    # The same message asks for the same call: a redelivered message names it alike.
    return ToolCall("call_" + hashlib.sha256(last.encode()).hexdigest()[:12], name, arguments)

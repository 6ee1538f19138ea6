"""The events domain's built-in tool (issue 9): log a DatasetEvent, as POST /events/datasets does."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.roles import Role
from studio.kernel.tools import ToolInvocation, ToolSpec

if TYPE_CHECKING:
    from studio.events.routes import EventsServices
    from studio.kernel.deps import Deps


def events_services(deps: Deps) -> EventsServices:
    """The domain's services, imported when the tool runs, not when every tool is listed (decision 0097)."""
    from studio.events.routes import events_services as services

    return services(deps)


def _log_dataset_event(call: ToolInvocation) -> dict[str, Any]:
    from studio.events.models import DatasetEventIn  # pydantic: when the tool runs, not when it is listed

    event = DatasetEventIn.model_validate({"surface": call.input["surface"],
                                           "agentId": call.input.get("agent_id") or call.caller_id[:128],
                                           "input": call.input["input"], "output": call.input["output"],
                                           "tags": call.input.get("tags", [])})
    return {"event_id": events_services(call.deps).logger.log(call.ctx, event)}


TOOLS = (
    ToolSpec(
        "events.log_dataset_event", "1.0.0", "Log a dataset event",
        "Record an interaction as a DatasetEvent (PII is redacted, the training preference applied).",
        {"type": "object", "additionalProperties": False, "required": ["surface", "input", "output"],
         "properties": {"surface": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"},
                        "agent_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$"},
                        "input": {"type": "string", "maxLength": 20000},
                        "output": {"type": "string", "maxLength": 20000},
                        "tags": {"type": "array", "maxItems": 32,
                                 "items": {"type": "string", "minLength": 1, "maxLength": 64}}}},
        {"type": "object", "required": ["event_id"], "properties": {"event_id": {"type": "string"}}},
        _log_dataset_event, danger="none", side_effects="write", idempotent=False, required_role=Role.MEMBER,
    ),
)

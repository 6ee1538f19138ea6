"""The privacy domain's built-in tool (issue 9): scan a text for personal data under the tenant's policy."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.roles import Role
from studio.kernel.tools import ToolInvocation, ToolSpec

if TYPE_CHECKING:
    from studio.kernel.deps import Deps
    from studio.privacy.services import PrivacyServices


def privacy_services(deps: Deps) -> PrivacyServices:
    """The domain's services, imported when a tool runs: listing the tools (every domain's specs, on the
    tools function's first request) imports no domain's services (decision 0097)."""
    from studio.privacy.services import privacy_services as services

    return services(deps)


def _scan_pii(call: ToolInvocation) -> dict[str, Any]:
    findings = privacy_services(call.deps).policy.scan(call.ctx.tenant_id, call.ctx.env, call.input["text"])
    return {"findings": [f.view() for f in findings]}


TOOLS = (
    ToolSpec(
        "privacy.scan_pii", "1.0.0", "Scan text for personal data",
        "Which entities (email, phone, card, IBAN, national ids, secrets ...) a text holds, where, and what "
        "this tenant's policy does with each. Reads nothing, changes nothing.",
        {"type": "object", "additionalProperties": False, "required": ["text"],
         "properties": {"text": {"type": "string", "maxLength": 20000}}},
        {"type": "object", "required": ["findings"], "properties": {"findings": {"type": "array", "items": {
            "type": "object", "required": ["type", "start", "end", "action"],
            "properties": {"type": {"type": "string"}, "start": {"type": "integer"}, "end": {"type": "integer"},
                           "action": {"type": "string"}}}}}},
        _scan_pii, danger="none", side_effects="none", idempotent=True, required_role=Role.VIEWER,
    ),
)

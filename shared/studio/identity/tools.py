"""Identity's built-in tool (issue 9): rename the tenant. Same service as PATCH /tenants/{id}."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.roles import Role
from studio.kernel.tools import ToolInvocation, ToolSpec

if TYPE_CHECKING:
    from studio.identity.services import IdentityServices
    from studio.kernel.deps import Deps


def identity_services(deps: Deps) -> IdentityServices:
    """The domain's services, imported when a tool runs: listing the tools (every domain's specs, on the
    tools function's first request) imports no domain's services (decision 0097)."""
    from studio.identity.services import identity_services as services

    return services(deps)


def _rename_tenant(call: ToolInvocation) -> dict[str, Any]:
    assert call.base_rev is not None  # the invoke path refuses a destructive call without one
    view, _ = identity_services(call.deps).tenants.rename(call.ctx, call.input["name"], call.base_rev)
    return {"tenant_id": call.ctx.tenant_id, "name": view["name"], "rev": view["rev"]}


TOOLS = (
    ToolSpec(
        "identity.rename_tenant", "1.0.0", "Rename the tenant",
        "Give the tenant a new name; needs the tenant's base_rev (it overwrites the name).",
        {"type": "object", "additionalProperties": False, "required": ["name"],
         "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100}}},
        {"type": "object", "required": ["tenant_id", "name", "rev"],
         "properties": {"tenant_id": {"type": "string"}, "name": {"type": "string"}, "rev": {"type": "integer"}}},
        _rename_tenant, danger="low", side_effects="write", idempotent=False, required_role=Role.ADMIN,
        destructive=True,
    ),
)

"""Identity's command types for ``POST /commands``; same services as the direct routes."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from studio.identity.services import identity_services
from studio.kernel import errors
from studio.kernel.api_model import ApiModel
from studio.kernel.commands import CommandOutcome, CommandType
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps
from studio.kernel.roles import Role


class RenameTenant(ApiModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


class SetRole(ApiModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


def _rename(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int, payload: RenameTenant) -> CommandOutcome:
    if target_id != ctx.tenant_id:
        raise errors.StudioError(errors.TENANT_MISMATCH, "target tenant differs from X-Tenant-Id")
    view, event = identity_services(deps).tenants.rename(ctx, payload.name, base_rev)
    return CommandOutcome(view["rev"], [event.summary()])


def _set_role(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int, payload: SetRole) -> CommandOutcome:
    view, event = identity_services(deps).memberships.set_role(ctx, target_id, payload.role, base_rev)
    return CommandOutcome(view["rev"], [event.summary()])


COMMANDS = (
    CommandType("tenant.rename", "tenant", RenameTenant, Role.ADMIN, _rename, "Rename the tenant"),
    CommandType("membership.set_role", "membership", SetRole, Role.ADMIN, _set_role,
                "Change a member's role (target id = user id)"),
)

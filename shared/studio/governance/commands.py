"""Governance's command types for ``POST /commands`` and for three-wise questions, which carry one:
the same services as the direct routes, behind the same strategy locks (a question's approved
change passes its lock: ``locks.approved_change``)."""
from __future__ import annotations

from studio.governance import models as m
from studio.governance.corridors import TENANT
from studio.governance.services import governance_services
from studio.kernel import errors
from studio.kernel.commands import CommandOutcome, CommandType
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps
from studio.kernel.roles import Role


def _id(target_id: str, prefix: str) -> str:
    if not target_id.startswith(prefix) or not target_id[len(prefix):].replace("_", "").replace("-", "").isalnum():
        raise errors.StudioError(errors.VALIDATION_FAILED, f"target id must be {prefix}<letters, digits, _ or ->",
                                 errors=[{"field": "body.target.id", "message": f"must start with {prefix}"}])
    return target_id


def _kill_switch(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int, p: m.KillSwitchSet) -> CommandOutcome:
    services = governance_services(deps)
    services.locks.check_scope_unlocked(ctx, "kill_switches")
    view, event = services.switches.put(ctx, _id(target_id, "ks_"), base_rev, target_kind=p.target_kind,
                                        target=p.target, reason=p.reason, active=p.active)
    return CommandOutcome(view["rev"], [event.summary()])


def _corridor(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int, p: m.CorridorSet) -> CommandOutcome:
    services = governance_services(deps)
    services.locks.check_scope_unlocked(ctx, "temperature")
    agent_id = None if target_id == TENANT else _id(target_id, "agent.")[len("agent."):]
    view, event = services.corridors.put(ctx, agent_id, base_rev, floor=p.floor, ceiling=p.ceiling, default=p.default)
    return CommandOutcome(view["rev"], [event.summary()])


def _budget(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int, p: m.BudgetSet) -> CommandOutcome:
    services = governance_services(deps)
    services.locks.check_scope_unlocked(ctx, "budgets")
    if p.soft_usd > p.hard_usd:
        raise errors.StudioError(errors.VALIDATION_FAILED, "soft_usd must not exceed hard_usd")
    view, event = services.budgets.put(ctx, _id(target_id, "bud_"), base_rev, provider=p.provider, period=p.period,
                                       soft_usd=p.soft_usd, hard_usd=p.hard_usd)
    return CommandOutcome(view["rev"], [event.summary()])


def _issue_licence(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int,
                   p: m.LicenceIssue) -> CommandOutcome:
    services = governance_services(deps)
    services.locks.check_scope_unlocked(ctx, "licences")
    if base_rev != 0:  # a licence is issued once: its id must be new
        raise errors.RevisionConflict(services.licences.current_rev(ctx, target_id) or 0)
    view, event = services.licences.issue(ctx, subject_type=p.subject_type, subject_id=p.subject_id, tools=p.tools,
                                   danger=p.danger, note=p.note, licence_id=_id(target_id, "lic_"),
                                   expires_at=p.expires_at.isoformat(timespec="microseconds").replace("+00:00", "Z"))
    return CommandOutcome(view["rev"], [event.summary()])


def _revoke_licence(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int,
                    p: m.LicenceRevoke) -> CommandOutcome:
    services = governance_services(deps)
    services.locks.check_scope_unlocked(ctx, "licences")
    view, event = services.licences.revoke(ctx, target_id, base_rev)
    return CommandOutcome(view["rev"], [event.summary()])


def _lock(deps: Deps, ctx: RequestContext, target_id: str, base_rev: int, p: m.LockSet) -> CommandOutcome:
    view, event = governance_services(deps).locks.put(ctx, target_id, base_rev, locked=p.locked, reason=p.reason)
    return CommandOutcome(view["rev"], [event.summary()])


COMMANDS = (
    CommandType("governance.kill_switch.set", "kill_switch", m.KillSwitchSet, Role.ADMIN, _kill_switch,
                "Create (base_rev 0) or replace a kill switch (target id ks_...)"),
    CommandType("governance.corridor.set", "temperature_corridor", m.CorridorSet, Role.ADMIN, _corridor,
                "Set the tenant's (target id 'tenant') or an agent's ('agent.<id>') temperature corridor"),
    CommandType("governance.budget.set", "budget", m.BudgetSet, Role.ADMIN, _budget,
                "Create (base_rev 0) or replace a budget (target id bud_...)"),
    CommandType("governance.licence.issue", "licence", m.LicenceIssue, Role.ADMIN, _issue_licence,
                "Issue a licence (target id lic_..., base_rev 0)"),
    CommandType("governance.licence.revoke", "licence", m.LicenceRevoke, Role.ADMIN, _revoke_licence,
                "Revoke a licence (target id = the licence)"),
    CommandType("governance.lock.set", "strategy_lock", m.LockSet, Role.ADMIN, _lock,
                "Lock or unlock a strategy scope (target id = the scope)"),
)

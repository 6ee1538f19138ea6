"""HTTP routes of temperature corridors and budgets (governance). Writes need an admin and respect
the ``temperature`` and ``budgets`` strategy locks."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from studio.governance import prices
from studio.governance.gates import GateRequest, Subject
from studio.governance.services import governance_services
from studio.kernel import errors
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.governance import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.governance.models")

temperature = Router("governance")
budget = Router("governance")
_AGENT = re.compile(r"^[a-z0-9_-]{1,64}$")
_BUDGET = re.compile(r"^bud_[A-Za-z0-9_-]{1,60}$")


def _agent(call: Call) -> str:
    agent_id = call.params["agent_id"]
    if not _AGENT.match(agent_id):
        raise errors.StudioError(errors.VALIDATION_FAILED, "agent_id is 1-64 of a-z, 0-9, _ and -",
                                 errors=[{"field": "path.agent_id", "message": "must match ^[a-z0-9_-]{1,64}$"}])
    return agent_id


def _budget_id(call: Call) -> str:
    budget_id = call.params["budget_id"]
    if not _BUDGET.match(budget_id):
        raise errors.StudioError(errors.VALIDATION_FAILED, "budget_id is bud_ then 1-60 of A-Z, a-z, 0-9, _ and -",
                                 errors=[{"field": "path.budget_id", "message": "must match ^bud_[A-Za-z0-9_-]{1,60}$"}])
    return budget_id


# -- temperature corridors -------------------------------------------------------------------
@temperature.tenant("GET", "/temperature/corridors", role=Role.VIEWER, response=m.CorridorList)
def list_corridors(call: Call) -> Any:
    """The tenant's corridor and its agents' corridors, with the platform's bounds."""
    return governance_services(call.deps).corridors.list_corridors(call.need_ctx())


@temperature.tenant("GET", "/temperature/effective", role=Role.VIEWER, query=m.EffectiveQuery, response=m.Effective)
def effective(call: Call) -> Any:
    """The temperature an agent would use for ?requested= (or its default)."""
    ctx, q = call.need_ctx(), call.query
    used = governance_services(call.deps).corridors.clamp(ctx.tenant_id, ctx.env, q.agent_id, q.requested)
    return {"agent_id": q.agent_id, "requested": q.requested, "temperature": used}


def _tenant_corridor_rev(call: Call) -> int | None:
    return governance_services(call.deps).corridors.current_rev(call.need_ctx(), None)


def _agent_corridor_rev(call: Call) -> int | None:
    return governance_services(call.deps).corridors.current_rev(call.need_ctx(), _agent(call))


def _put_corridor(call: Call, agent_id: str | None) -> Any:
    ctx, b = call.need_ctx(), call.body
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "temperature")
    view, _ = services.corridors.put(ctx, agent_id, call.expected_rev(), floor=b.floor, ceiling=b.ceiling,
                                     default=b.default)
    return view


def _delete_corridor(call: Call, agent_id: str | None) -> Any:
    ctx = call.need_ctx()
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "temperature")
    services.corridors.remove(ctx, agent_id, call.expected_rev())
    return Reply(None, status=204)


@temperature.tenant("PUT", "/temperature/corridors/tenant", role=Role.ADMIN, body=m.CorridorIn,
                    response=m.CorridorOut, revisioned=True, current_rev=_tenant_corridor_rev)
def put_tenant_corridor(call: Call) -> Any:
    """Set the tenant's corridor (base_rev 0 the first time)."""
    return _put_corridor(call, None)


@temperature.tenant("DELETE", "/temperature/corridors/tenant", role=Role.ADMIN, query=RevisionQuery, status=204,
                    revisioned=True, current_rev=_tenant_corridor_rev)
def delete_tenant_corridor(call: Call) -> Any:
    """Back to the platform's corridor."""
    return _delete_corridor(call, None)


@temperature.tenant("PUT", "/temperature/corridors/agents/{agent_id}", role=Role.ADMIN, body=m.CorridorIn,
                    response=m.CorridorOut, revisioned=True, current_rev=_agent_corridor_rev)
def put_agent_corridor(call: Call) -> Any:
    """Set an agent's corridor, inside the tenant's (base_rev 0 the first time)."""
    return _put_corridor(call, _agent(call))


@temperature.tenant("DELETE", "/temperature/corridors/agents/{agent_id}", role=Role.ADMIN, query=RevisionQuery,
                    status=204, revisioned=True, current_rev=_agent_corridor_rev)
def delete_agent_corridor(call: Call) -> Any:
    """Back to the tenant's corridor."""
    return _delete_corridor(call, _agent(call))


# -- budgets ---------------------------------------------------------------------------------
@budget.tenant("GET", "/budget/budgets", role=Role.VIEWER, response=m.BudgetList)
def list_budgets(call: Call) -> Any:
    """Budgets with this period's spent and reserved amounts."""
    return governance_services(call.deps).budgets.list_budgets(call.need_ctx())


def _budget_rev(call: Call) -> int | None:
    return governance_services(call.deps).budgets.current_rev(call.need_ctx(), _budget_id(call))


@budget.tenant("PUT", "/budget/budgets/{budget_id}", role=Role.ADMIN, body=m.BudgetIn, response=m.BudgetOut,
               revisioned=True, current_rev=_budget_rev)
def put_budget(call: Call) -> Any:
    """Create (base_rev 0) or replace a budget: soft and hard USD limits per provider (or *) and period."""
    ctx, b = call.need_ctx(), call.body
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "budgets")
    view, _ = services.budgets.put(ctx, _budget_id(call), call.expected_rev(), provider=b.provider, period=b.period,
                                   soft_usd=b.soft_usd, hard_usd=b.hard_usd)
    return view


@budget.tenant("DELETE", "/budget/budgets/{budget_id}", role=Role.ADMIN, query=RevisionQuery, status=204,
               revisioned=True, current_rev=_budget_rev)
def delete_budget(call: Call) -> Any:
    """Remove a budget; needs If-Match or ?base_rev=."""
    ctx = call.need_ctx()
    services = governance_services(call.deps)
    services.locks.check_scope_unlocked(ctx, "budgets")
    services.budgets.remove(ctx, _budget_id(call), call.expected_rev())
    return Reply(None, status=204)


@budget.tenant("GET", "/budget/usage", role=Role.VIEWER, query=m.UsageQuery, response=m.UsageList)
def list_usage(call: Call) -> Any:
    """Usage records (model calls and tool invocations), newest first."""
    return governance_services(call.deps).budgets.usage(call.need_ctx(), call.query.limit, call.query.page_token)


@budget.tenant("POST", "/budget/usage", role=Role.MEMBER, body=m.UsageIn, response=m.UsageOut, status=201)
def record_usage(call: Call) -> Any:
    """Record a model call made outside the platform (a client's own), priced from the table and held
    to the same budgets: refused with BUDGET_EXCEEDED when it would pass a hard limit."""
    ctx, b = call.need_ctx(), call.body
    gates = governance_services(call.deps).gates
    cost = prices.price_of(b.provider, b.model).cost(b.input_tokens, b.output_tokens)
    tokens = b.input_tokens + b.output_tokens
    subject = Subject("user", ctx.user_id, ctx.role or Role.VIEWER)
    held = gates.reserve(GateRequest(ctx.tenant_id, ctx.env, subject, "model.call", provider=b.provider, model=b.model,
                                     agent_id=b.agent_id, estimate_usd=cost, estimate_tokens=tokens))
    gates.settle(held, cost, tokens)
    return {"provider": b.provider, "model": b.model, "tokens": tokens, "cost_usd": cost}


@budget.tenant("GET", "/budget/usage/summary", role=Role.VIEWER, query=m.SummaryQuery, response=m.UsageSummary)
def usage_summary(call: Call) -> Any:
    """Calls, tokens and cost per provider and model since ?since= (default: 30 days), with the budgets."""
    since = call.query.since or (datetime.now(UTC) - timedelta(days=30))
    return governance_services(call.deps).budgets.summary(
        call.need_ctx(), since.isoformat(timespec="microseconds").replace("+00:00", "Z"))


@budget.tenant("GET", "/budget/prices", role=Role.VIEWER, response=m.PriceTable)
def price_table(call: Call) -> Any:
    """USD per 1,000 input and output tokens, per provider and model (local models are free)."""
    return {"prices": prices.table()}

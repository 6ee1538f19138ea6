"""Where governance keeps its documents: tenant data under ``tenants/{t}/envs/{env}/``, and the
platform-wide kill switches (set by system identities only) under one platform collection."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection

PLATFORM_KILL_SWITCHES = "platform/governance/kill_switches"


def licences(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_licences")


def licence(tenant_id: str, env: str, licence_id: str) -> str:
    return f"{licences(tenant_id, env)}/{licence_id}"


def kill_switches(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_kill_switches")


def kill_switch(tenant_id: str, env: str, switch_id: str) -> str:
    return f"{kill_switches(tenant_id, env)}/{switch_id}"


def platform_kill_switch(switch_id: str) -> str:
    return f"{PLATFORM_KILL_SWITCHES}/{switch_id}"


def locks(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_locks")


def lock(tenant_id: str, env: str, scope: str) -> str:
    return f"{locks(tenant_id, env)}/{scope}"


def questions(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_questions")


def question(tenant_id: str, env: str, question_id: str) -> str:
    return f"{questions(tenant_id, env)}/{question_id}"


def corridors(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_corridors")


def corridor(tenant_id: str, env: str, corridor_id: str) -> str:
    return f"{corridors(tenant_id, env)}/{corridor_id}"


def budgets(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_budgets")


def budget(tenant_id: str, env: str, budget_id: str) -> str:
    return f"{budgets(tenant_id, env)}/{budget_id}"


def spend(tenant_id: str, env: str, budget_id: str, period_key: str) -> str:
    """One budget's running totals for one period (reserved and spent), the document every
    reservation of that budget reads and writes in its transaction."""
    return f"{tenant_collection(tenant_id, env, 'gov_spend')}/{budget_id}.{period_key}"


def reservations(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_reservations")


def reservation(tenant_id: str, env: str, reservation_id: str) -> str:
    return f"{reservations(tenant_id, env)}/{reservation_id}"


def usage(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "gov_usage")


def usage_record(tenant_id: str, env: str, record_id: str) -> str:
    return f"{usage(tenant_id, env)}/{record_id}"

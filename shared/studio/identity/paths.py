"""Where identity lives in the store, one function per path so code, rules and indexes agree.

Identity's documents are not under a tenant's env: a tenant, its members and a user's accounts
exist once for every env (BLUEPRINT 4 scopes tenant DATA by env, not the tenant itself).
"""
from __future__ import annotations


def tenant(tenant_id: str) -> str:
    return f"tenants/{tenant_id}"


def member(tenant_id: str, user_id: str) -> str:
    return f"{tenant(tenant_id)}/members/{user_id}"


def user_membership(user_id: str, tenant_id: str) -> str:
    """The mirror of a membership under its user, for ``/auth/me``: written with the member document."""
    return f"users/{user_id}/memberships/{tenant_id}"

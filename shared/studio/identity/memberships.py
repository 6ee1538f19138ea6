"""Tenant memberships, looked up on every tenant request so a role change applies on
the next one. Each membership is mirrored under the user for ``/auth/me``; both
documents are written in one transaction. Invariant: a tenant always keeps an owner.
"""
from __future__ import annotations

from typing import Any

from studio.identity.errors import LAST_OWNER
from studio.identity.paths import member as member_path
from studio.identity.paths import user_membership as mirror_path
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.roles import Role
from studio.ports.store import DocumentStore, Filter, Query, iter_all


def member_view(doc: Any) -> dict[str, Any]:
    return {"tenant_id": doc.data["tenant_id"], "user_id": doc.data["user_id"], "email": doc.data.get("email"),
            "role": doc.data["role"], "rev": doc.rev}


def write_membership(tx: Any, tenant_id: str, user_id: str, email: str | None, role: Role,
                     expected_rev: int | None = None) -> Any:
    doc = tx.put(member_path(tenant_id, user_id),
                 {"tenant_id": tenant_id, "user_id": user_id, "email": email, "role": role.value,
                  "updated_at": utc_now()}, expected_rev=expected_rev)
    tx.put(mirror_path(user_id, tenant_id), {"tenant_id": tenant_id, "role": role.value})
    return doc


class MembershipRepo:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def role_of(self, tenant_id: str, user_id: str) -> Role | None:
        doc = self._store.get(member_path(tenant_id, user_id))
        return None if doc is None else Role(doc.data["role"])

    def of_user(self, user_id: str) -> list[dict[str, str]]:
        docs = iter_all(self._store, Query(f"users/{user_id}/memberships", limit=500))
        return [{"tenant_id": d.data["tenant_id"], "role": d.data["role"]} for d in docs]

    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        docs = iter_all(self._store, Query(f"tenants/{tenant_id}/members", limit=500))
        return [member_view(d) for d in docs]

    def add(self, ctx: RequestContext, user_id: str, email: str, role: Role) -> dict[str, Any]:
        _check_grant(ctx, role)

        def write(tx: Any) -> Any:
            if tx.get(member_path(ctx.tenant_id, user_id)) is not None:
                raise errors.StudioError(errors.ALREADY_EXISTS, "already a member")
            doc = write_membership(tx, ctx.tenant_id, user_id, email, role, expected_rev=0)
            emit(tx, DomainEvent("member.added", ctx.tenant_id, ctx.env, f"tenants/{ctx.tenant_id}",
                                 {"user_id": user_id, "role": role.value}))
            return doc

        return member_view(self._store.run_transaction(write))

    def set_role(self, ctx: RequestContext, user_id: str, role: Role, base_rev: int) -> tuple[dict[str, Any], DomainEvent]:
        def write(tx: Any) -> tuple[Any, DomainEvent]:
            doc = _existing(tx, ctx.tenant_id, user_id)
            old = Role(doc.data["role"])
            _check_grant(ctx, role)
            _check_grant(ctx, old)
            if old is Role.OWNER and role is not Role.OWNER:
                _keep_an_owner(tx, ctx.tenant_id)
            new = write_membership(tx, ctx.tenant_id, user_id, doc.data.get("email"), role, expected_rev=base_rev)
            event = emit(tx, DomainEvent("member.role_changed", ctx.tenant_id, ctx.env, f"tenants/{ctx.tenant_id}",
                                         {"user_id": user_id, "from": old.value, "to": role.value}))
            return new, event

        doc, event = self._store.run_transaction(write)
        return member_view(doc), event

    def remove(self, ctx: RequestContext, user_id: str, base_rev: int | None) -> None:
        def write(tx: Any) -> None:
            doc = _existing(tx, ctx.tenant_id, user_id)
            old = Role(doc.data["role"])
            if user_id != ctx.user_id:  # leaving a tenant needs no rank
                _check_grant(ctx, old)
            if old is Role.OWNER:
                _keep_an_owner(tx, ctx.tenant_id)
            tx.delete(doc.path, expected_rev=base_rev)
            tx.delete(mirror_path(user_id, ctx.tenant_id))
            emit(tx, DomainEvent("member.removed", ctx.tenant_id, ctx.env, f"tenants/{ctx.tenant_id}",
                                 {"user_id": user_id}))

        self._store.run_transaction(write)


def _existing(tx: Any, tenant_id: str, user_id: str) -> Any:
    doc = tx.get(member_path(tenant_id, user_id))
    if doc is None:
        raise errors.NotFound("no such member")
    return doc


def _check_grant(ctx: RequestContext, role: Role) -> None:
    """Only owners grant or take away ownership; admins manage the ranks below."""
    if ctx.is_system:
        return
    needed = Role.OWNER if role is Role.OWNER else Role.ADMIN
    if ctx.role is None or not ctx.role.at_least(needed):
        raise errors.StudioError(errors.ROLE_INSUFFICIENT, f"managing a {role.value} needs {needed.value}")


def _keep_an_owner(tx: Any, tenant_id: str) -> None:
    owners = tx.query(Query(f"tenants/{tenant_id}/members", [Filter("role", "==", "owner")], limit=2))
    if len(owners.docs) < 2:
        raise errors.StudioError(LAST_OWNER)

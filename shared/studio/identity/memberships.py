"""Tenant memberships, looked up on every tenant request so a role change applies on
the next one. Each membership is mirrored under the user for ``/auth/me``; both
documents are written in one transaction. Invariant: a tenant always keeps an owner.
"""
from __future__ import annotations

from typing import Any

from studio.identity.errors import LAST_OWNER
from studio.identity.paths import member as member_path
from studio.identity.paths import user_membership as mirror_path
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.roles import Role
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction, iter_all


def member_view(doc: Any) -> dict[str, Any]:
    return {"tenant_id": doc.data["tenant_id"], "user_id": doc.data["user_id"], "email": doc.data.get("email"),
            "role": doc.data["role"], "rev": doc.rev}


def membership_data(tenant_id: str, user_id: str, email: str | None, role: Role) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "user_id": user_id, "email": email, "role": role.value, "updated_at": utc_now()}


def write_mirror(tx: Transaction, tenant_id: str, user_id: str, role: Role) -> None:
    tx.put(mirror_path(user_id, tenant_id), {"tenant_id": tenant_id, "role": role.value})


def write_membership(tx: Transaction, tenant_id: str, user_id: str, email: str | None, role: Role,
                     expected_rev: int | None = None) -> Document:
    doc = tx.put(member_path(tenant_id, user_id), membership_data(tenant_id, user_id, email, role),
                 expected_rev=expected_rev)
    write_mirror(tx, tenant_id, user_id, role)
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

    def list_members(self, tenant_id: str) -> list[dict[str, Any]]:
        docs = iter_all(self._store, Query(f"tenants/{tenant_id}/members", limit=500))
        return [member_view(d) for d in docs]

    def add(self, ctx: RequestContext, user_id: str, email: str, role: Role) -> dict[str, Any]:
        _check_grant(ctx, role)

        def write(tx: Transaction) -> Document:
            if tx.get(member_path(ctx.tenant_id, user_id)) is not None:
                raise errors.StudioError(errors.ALREADY_EXISTS, "already a member")
            doc = write_membership(tx, ctx.tenant_id, user_id, email, role, expected_rev=0)
            emit(tx, DomainEvent("member.added", ctx.tenant_id, ctx.env, f"tenants/{ctx.tenant_id}",
                                 {"user_id": user_id, "role": role.value}))
            return doc

        return member_view(self._store.run_transaction(write))

    def current_rev(self, tenant_id: str, user_id: str) -> int | None:
        doc = self._store.get(member_path(tenant_id, user_id))
        return None if doc is None else doc.rev

    def set_role(self, ctx: RequestContext, user_id: str, role: Role, base_rev: int) -> tuple[dict[str, Any], DomainEvent]:
        def write(tx: Transaction) -> repository.Revised:
            def change(doc: Document) -> dict[str, Any]:
                old = Role(doc.data["role"])
                _check_grant(ctx, role)
                _check_grant(ctx, old)
                if old is Role.OWNER and role is not Role.OWNER:
                    _keep_an_owner(tx, ctx.tenant_id)
                return membership_data(ctx.tenant_id, user_id, doc.data.get("email"), role)

            def changed(before: Document, after: Document) -> DomainEvent:
                return DomainEvent("member.role_changed", ctx.tenant_id, ctx.env, f"tenants/{ctx.tenant_id}",
                                   {"user_id": user_id, "from": before.data["role"], "to": role.value,
                                    "rev": after.rev})

            done = repository.update(tx, member_path(ctx.tenant_id, user_id), base_rev, change=change,
                                     event=changed, what="member")
            write_mirror(tx, ctx.tenant_id, user_id, role)
            return done

        done = self._store.run_transaction(write)
        return member_view(done.after), done.event

    def remove(self, ctx: RequestContext, user_id: str, base_rev: int) -> None:
        def write(tx: Transaction) -> None:
            def guard(doc: Document) -> None:
                old = Role(doc.data["role"])
                if user_id != ctx.user_id:  # leaving a tenant needs no rank
                    _check_grant(ctx, old)
                if old is Role.OWNER:
                    _keep_an_owner(tx, ctx.tenant_id)

            repository.delete(tx, member_path(ctx.tenant_id, user_id), base_rev, guard=guard, what="member",
                              event=lambda doc: DomainEvent("member.removed", ctx.tenant_id, ctx.env,
                                                            f"tenants/{ctx.tenant_id}", {"user_id": user_id}))
            tx.delete(mirror_path(user_id, ctx.tenant_id))

        self._store.run_transaction(write)


def _check_grant(ctx: RequestContext, role: Role) -> None:
    """Only owners grant or take away ownership; admins manage the ranks below."""
    if ctx.is_system:
        return
    needed = Role.OWNER if role is Role.OWNER else Role.ADMIN
    if ctx.role is None or not ctx.role.at_least(needed):
        raise errors.StudioError(errors.ROLE_INSUFFICIENT, f"managing a {role.value} needs {needed.value}")


def _keep_an_owner(tx: Transaction, tenant_id: str) -> None:
    owners = tx.query(Query(f"tenants/{tenant_id}/members", [Filter("role", "==", "owner")], limit=2))
    if len(owners.docs) < 2:
        raise errors.StudioError(LAST_OWNER)

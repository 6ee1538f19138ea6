"""Tenants: created by ``/auth/bootstrap`` with the caller as owner (``tenant.created``, and
``member.added`` for the owner); renamed with revisions."""
from __future__ import annotations

import secrets
import string
from typing import Any

from studio.identity.memberships import write_membership
from studio.identity.paths import tenant as tenant_path
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal, RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.roles import Role
from studio.ports.store import Document, DocumentStore, Transaction

_ALPHABET = string.ascii_lowercase + string.digits


def tenant_view(doc: Any) -> dict[str, Any]:
    return {"tenant_id": doc.data["tenant_id"], "name": doc.data["name"], "rev": doc.rev,
            "created_at": doc.create_time, "updated_at": doc.update_time}


class TenantService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def bootstrap(self, principal: Principal, name: str, env: str = "dev") -> str:
        def write(tx: Transaction) -> str:
            tenant_id = "t_" + "".join(secrets.choice(_ALPHABET) for _ in range(12))  # minted with the write (0020)
            tx.create(tenant_path(tenant_id), {"tenant_id": tenant_id, "name": name, "created_by": principal.user_id,
                                               "created_at": utc_now()})
            write_membership(tx, tenant_id, principal.user_id, principal.email, Role.OWNER, expected_rev=0)
            emit(tx, DomainEvent("tenant.created", tenant_id, env, tenant_path(tenant_id),
                                 {"name": name, "owner": principal.user_id}))
            # The creator's membership is a membership like any other: its consumers (the tenants
            # claim: identity/claims.py) follow domain.member alone.
            emit(tx, DomainEvent("member.added", tenant_id, env, tenant_path(tenant_id),
                                 {"user_id": principal.user_id, "role": Role.OWNER.value}))
            return tenant_id

        return str(self._store.run_transaction(write))

    def get(self, tenant_id: str) -> dict[str, Any]:
        doc = self._store.get(tenant_path(tenant_id))
        if doc is None:
            raise errors.NotFound("no such tenant")
        return tenant_view(doc)

    def current_rev(self, tenant_id: str) -> int | None:
        doc = self._store.get(tenant_path(tenant_id))
        return None if doc is None else doc.rev

    def rename(self, ctx: RequestContext, name: str, base_rev: int) -> tuple[dict[str, Any], DomainEvent]:
        def renamed(before: Document, after: Document) -> DomainEvent:
            return DomainEvent("tenant.renamed", ctx.tenant_id, ctx.env, after.path,
                               {"from": before.data["name"], "to": name, "rev": after.rev})

        done = self._store.run_transaction(lambda tx: repository.update(
            tx, tenant_path(ctx.tenant_id), base_rev, change=lambda doc: dict(doc.data, name=name),
            event=renamed, what="tenant"))
        return tenant_view(done.after), done.event

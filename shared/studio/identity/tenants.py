"""Tenants: created by ``/auth/bootstrap`` with the caller as owner; renamed with revisions."""
from __future__ import annotations

import secrets
import string
from typing import Any

from studio.identity.memberships import write_membership
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal, RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.roles import Role
from studio.ports.store import DocumentStore

_ALPHABET = string.ascii_lowercase + string.digits


def tenant_path(tenant_id: str) -> str:
    return f"tenants/{tenant_id}"


def tenant_view(doc: Any) -> dict[str, Any]:
    return {"tenant_id": doc.data["tenant_id"], "name": doc.data["name"], "rev": doc.rev,
            "created_at": doc.create_time, "updated_at": doc.update_time}


class TenantService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def bootstrap(self, principal: Principal, name: str, env: str = "dev") -> str:
        def write(tx: Any) -> str:
            tenant_id = "t_" + "".join(secrets.choice(_ALPHABET) for _ in range(12))  # minted with the write (0020)
            tx.create(tenant_path(tenant_id), {"tenant_id": tenant_id, "name": name, "created_by": principal.user_id,
                                               "created_at": utc_now()})
            write_membership(tx, tenant_id, principal.user_id, principal.email, Role.OWNER, expected_rev=0)
            emit(tx, DomainEvent("tenant.created", tenant_id, env, tenant_path(tenant_id),
                                 {"name": name, "owner": principal.user_id}))
            return tenant_id

        return str(self._store.run_transaction(write))

    def get(self, tenant_id: str) -> dict[str, Any]:
        doc = self._store.get(tenant_path(tenant_id))
        if doc is None:
            raise errors.NotFound("no such tenant")
        return tenant_view(doc)

    def rename(self, ctx: RequestContext, name: str, base_rev: int) -> tuple[dict[str, Any], DomainEvent]:
        def write(tx: Any) -> tuple[Any, DomainEvent]:
            doc = tx.get(tenant_path(ctx.tenant_id))
            if doc is None:
                raise errors.NotFound("no such tenant")
            new = tx.put(doc.path, dict(doc.data, name=name), expected_rev=base_rev)
            event = emit(tx, DomainEvent("tenant.renamed", ctx.tenant_id, ctx.env, doc.path,
                                         {"from": doc.data["name"], "to": name, "rev": new.rev}))
            return new, event

        doc, event = self._store.run_transaction(write)
        return tenant_view(doc), event

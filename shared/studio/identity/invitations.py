"""Invitations: how anyone joins a tenant they did not create.

An admin invites an address with a role; the invitee accepts while signed in with that address
VERIFIED (built-in: the mailed token; Firebase: the ``email_verified`` claim). Registering an
address first therefore gains a squatter nothing: they cannot verify a mailbox they do not
hold, and the owner takes the account over by a password reset.

Documents: ``tenants/{t}/invitations/{id}`` (the invitation) and
``invitees/{email key}/invitations/{id}`` (a pointer, so an invitee finds theirs without a
cross-tenant query). Accepting looks the id up under the caller's OWN verified address, so an
invitation for someone else is simply not found. The id is not a secret: binding is by address.
Grants follow the membership rules (only owners invite owners) and are checked again at
acceptance: an inviter who lost the rank meanwhile no longer vouches for the invitation.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from studio.identity import emails, mails
from studio.identity import errors as identity_errors
from studio.identity.accounts import email_index_path
from studio.identity.memberships import _check_grant, member_view, write_membership
from studio.identity.paths import member as member_path
from studio.identity.paths import tenant as tenant_path
from studio.identity.verification import verified_email
from studio.kernel import errors
from studio.kernel.clock import to_rfc3339, utc_now
from studio.kernel.context import Principal, RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.roles import Role
from studio.ports.mailer import Mailer
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction, iter_all

TTL_S = 7 * 24 * 3600
PENDING, ACCEPTED, REVOKED, EXPIRED = "pending", "accepted", "revoked", "expired"


def invitation_path(tenant_id: str, invitation_id: str) -> str:
    return f"tenants/{tenant_id}/invitations/{invitation_id}"


def pointer_path(email_key: str, invitation_id: str) -> str:
    return f"invitees/{email_key}/invitations/{invitation_id}"


class InvitationService:
    def __init__(self, store: DocumentStore, mailer: Mailer, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._mailer = mailer
        self._clock = clock

    def create(self, ctx: RequestContext, email: str, role: Role) -> dict[str, Any]:
        address = emails.normalise(email)
        key = emails.email_key(address)
        _check_grant(ctx, role)
        invitation_id = "inv_" + secrets.token_hex(16)
        now = self._clock()

        def write(tx: Transaction) -> tuple[Document, str]:
            tenant = tx.get(tenant_path(ctx.tenant_id))
            if tenant is None:
                raise errors.NotFound("no such tenant")
            index = tx.get(email_index_path(key))
            if index is not None and tx.get(member_path(ctx.tenant_id, index.data["user_id"])) is not None:
                raise errors.StudioError(errors.ALREADY_EXISTS, "that address is already a member")
            open_ones = tx.query(Query(f"tenants/{ctx.tenant_id}/invitations",
                                       [Filter("email_key", "==", key), Filter("status", "==", PENDING)], limit=10))
            if any(d.data["expires_at_ts"] > now for d in open_ones.docs):
                raise errors.StudioError(errors.ALREADY_EXISTS, "a pending invitation to that address exists")
            doc = tx.create(invitation_path(ctx.tenant_id, invitation_id), {
                "invitation_id": invitation_id, "tenant_id": ctx.tenant_id, "env": ctx.env, "email": address,
                "email_key": key, "role": role.value, "status": PENDING, "invited_by": ctx.user_id,
                "invited_by_system": ctx.is_system, "created_at": utc_now(), "expires_at_ts": now + TTL_S})
            tx.create(pointer_path(key, invitation_id), {"tenant_id": ctx.tenant_id, "invitation_id": invitation_id})
            emit(tx, DomainEvent("member.invited", ctx.tenant_id, ctx.env, doc.path,
                                 {"invitation_id": invitation_id, "role": role.value, "invited_by": ctx.user_id}))
            return doc, str(tenant.data["name"])

        doc, tenant_name = self._store.run_transaction(write)
        mails.send_quietly(self._mailer, mails.invitation_mail(address, tenant_name, role.value, invitation_id))
        return self._view(doc)

    def list_for_tenant(self, tenant_id: str) -> list[dict[str, Any]]:
        docs = iter_all(self._store, Query(f"tenants/{tenant_id}/invitations", limit=500))
        return [self._view(d) for d in docs]

    def revoke(self, ctx: RequestContext, invitation_id: str) -> None:
        def write(tx: Transaction) -> None:
            doc = tx.get(invitation_path(ctx.tenant_id, invitation_id)) if invitation_id.startswith("inv_") else None
            if doc is None:
                raise errors.NotFound("no such invitation")
            _check_grant(ctx, Role(doc.data["role"]))
            if self._status(doc) != PENDING:
                raise errors.StudioError(identity_errors.INVITATION_NOT_PENDING, f"the invitation is {self._status(doc)}")
            tx.put(doc.path, dict(doc.data, status=REVOKED, revoked_by=ctx.user_id, revoked_at=utc_now()),
                   expected_rev=doc.rev)
            tx.delete(pointer_path(doc.data["email_key"], invitation_id))
            emit(tx, DomainEvent("member.invitation_revoked", ctx.tenant_id, ctx.env, doc.path,
                                 {"invitation_id": invitation_id}))

        self._store.run_transaction(write)

    def list_for_invitee(self, principal: Principal) -> list[dict[str, Any]]:
        """Pending invitations to the caller's verified address (none while it is unverified)."""
        address = verified_email(self._store, principal)
        if address is None:
            return []
        pointers = iter_all(self._store, Query(f"invitees/{emails.email_key(address)}/invitations", limit=100))
        found = []
        for pointer in pointers:
            doc = self._store.get(invitation_path(pointer.data["tenant_id"], pointer.doc_id))
            if doc is not None and self._status(doc) == PENDING:
                tenant = self._store.get(tenant_path(doc.data["tenant_id"]))
                found.append({**self._view(doc), "tenant_name": tenant.data["name"] if tenant else None})
        return found

    def accept(self, principal: Principal, invitation_id: str) -> dict[str, Any]:
        address = verified_email(self._store, principal)
        if address is None:
            raise errors.StudioError(identity_errors.EMAIL_NOT_VERIFIED, "verify your address before accepting an invitation")
        key = emails.email_key(address)

        def write(tx: Transaction) -> Document:
            pointer = tx.get(pointer_path(key, invitation_id)) if invitation_id.startswith("inv_") else None
            doc = tx.get(invitation_path(pointer.data["tenant_id"], invitation_id)) if pointer else None
            if doc is None or doc.data["email_key"] != key:
                raise errors.NotFound("no such invitation for your address")
            tenant_id, role = doc.data["tenant_id"], Role(doc.data["role"])
            if self._status(doc) != PENDING:
                raise errors.StudioError(identity_errors.INVITATION_NOT_PENDING, f"the invitation is {self._status(doc)}")
            inviter = tx.get(member_path(tenant_id, doc.data["invited_by"]))
            needed = Role.OWNER if role is Role.OWNER else Role.ADMIN
            vouched = doc.data.get("invited_by_system") is True or (
                inviter is not None and Role(inviter.data["role"]).at_least(needed))
            if not vouched:
                raise errors.StudioError(identity_errors.INVITATION_NOT_PENDING, "the inviter may no longer grant this role")
            if tx.get(member_path(tenant_id, principal.user_id)) is not None:
                raise errors.StudioError(errors.ALREADY_EXISTS, "already a member")
            member: Document = write_membership(tx, tenant_id, principal.user_id, address, role, expected_rev=0)
            tx.put(doc.path, dict(doc.data, status=ACCEPTED, accepted_by=principal.user_id, accepted_at=utc_now()),
                   expected_rev=doc.rev)
            tx.delete(pointer_path(key, invitation_id))
            emit(tx, DomainEvent("member.added", tenant_id, doc.data["env"], tenant_path(tenant_id),
                                 {"user_id": principal.user_id, "role": role.value, "invitation_id": invitation_id}))
            return member

        return member_view(self._store.run_transaction(write))

    def _status(self, doc: Document) -> str:
        status = str(doc.data["status"])
        return EXPIRED if status == PENDING and doc.data["expires_at_ts"] <= self._clock() else status

    def _view(self, doc: Document) -> dict[str, Any]:
        d = doc.data
        return {"invitation_id": d["invitation_id"], "tenant_id": d["tenant_id"], "email": d["email"],
                "role": d["role"], "status": self._status(doc), "invited_by": d["invited_by"],
                "created_at": d["created_at"], "expires_at": to_rfc3339(d["expires_at_ts"]), "rev": doc.rev}

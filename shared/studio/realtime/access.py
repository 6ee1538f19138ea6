"""Who may open a realtime stream: a single-use ticket (browsers) or a bearer token with
tenant headers (other clients); either way the caller must be a member of the tenant and
the thread must exist there. Refused before any data is sent."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.chat import paths
from studio.kernel import errors
from studio.kernel.context import check_tenant_id, normalise_env
from studio.kernel.roles import Role
from studio.realtime.tickets import TicketService

META = "meta"  # the ticket "thread" for the tenant's meta channel


@dataclass(frozen=True)
class Grant:
    tenant_id: str
    env: str
    user_id: str
    role: Role
    thread_id: str
    session_id: str | None = None


def authorize(deps: Any, *, thread_id: str, ticket: str | None, headers: Mapping[str, str],
              min_role: Role = Role.VIEWER) -> Grant:
    session_id: str | None = None
    if ticket:
        t = TicketService(deps.store).redeem(ticket, thread_id)
        tenant_id, env, user_id = t.tenant_id, t.env, t.user_id
    else:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.StudioError(errors.UNAUTHENTICATED, "send a ticket or Authorization: Bearer")
        principal = deps.verifier.verify(token.strip())
        if principal.session_id and not deps.sessions.session_active(principal.session_id):
            raise errors.StudioError(errors.TOKEN_INVALID, "session has ended")
        tenant_id = check_tenant_id(headers.get("x-tenant-id"))
        env = normalise_env(headers.get("x-env"))
        user_id = principal.user_id
        session_id = principal.session_id
    role = deps.memberships.role_of(tenant_id, user_id)  # checked now, not when the ticket was made
    if role is None:
        raise errors.StudioError(errors.NOT_A_MEMBER)
    if not role.at_least(min_role):
        raise errors.StudioError(errors.ROLE_INSUFFICIENT)
    if thread_id != META:
        doc = deps.store.get(paths.thread(tenant_id, env, thread_id)) if thread_id.startswith("th_") else None
        if doc is None or doc.data.get("deleted"):
            raise errors.NotFound("no such thread")
    return Grant(tenant_id, env, user_id, role, thread_id, session_id)


def recheck(deps: Any, grant: Grant, min_role: Role = Role.VIEWER) -> Grant:
    """A long-lived stream re-asks what a request would: still a member (with the role), session
    still open. Removed or logged-out users lose the stream at the next check, not at reconnect."""
    if grant.session_id and not deps.sessions.session_active(grant.session_id):
        raise errors.StudioError(errors.TOKEN_INVALID, "session has ended")
    role = deps.memberships.role_of(grant.tenant_id, grant.user_id)
    if role is None:
        raise errors.StudioError(errors.NOT_A_MEMBER)
    if not role.at_least(min_role):
        raise errors.StudioError(errors.ROLE_INSUFFICIENT)
    return Grant(grant.tenant_id, grant.env, grant.user_id, role, grant.thread_id, grant.session_id)

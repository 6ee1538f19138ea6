"""Who is calling, for which tenant, with which role: one answer for the HTTP routes and the
realtime gateway (BLUEPRINT 3, "Context").

credential (bearer token, or a single-use ticket) -> session still open -> tenant id + env
-> membership with the role. A long-lived stream asks the last steps again (``recheck``) as
a request would, so a logged-out or removed user loses it.
"""
from __future__ import annotations

from typing import Protocol

from studio.kernel import errors
from studio.kernel.context import (
    MembershipReader,
    Principal,
    RequestContext,
    SessionReader,
    TokenVerifier,
    check_tenant_id,
    normalise_env,
)
from studio.kernel.roles import Role
from studio.kernel.tickets import TicketService
from studio.ports.store import DocumentStore

# The WSGI environ key of a caller this process verified itself: the realtime gateway hands a
# socket's user to the route a ``send`` frame goes through. Servers build environ from the wire,
# where request headers become ``HTTP_*`` keys, so no client can set this one.
VERIFIED_PRINCIPAL = "studio.verified_principal"



class AccessDeps(Protocol):
    @property
    def store(self) -> DocumentStore: ...

    @property
    def verifier(self) -> TokenVerifier: ...

    @property
    def sessions(self) -> SessionReader: ...

    @property
    def memberships(self) -> MembershipReader: ...


def _unauthenticated(code: errors.ErrorCode, detail: str) -> errors.StudioError:
    # The challenge (RFC 9110 11.6.1, RFC 6750 error=) is added by kernel/problems.problem_headers,
    # the one place every edge builds a 401's headers.
    return errors.StudioError(code, detail)


def session_open(deps: AccessDeps, principal: Principal) -> Principal:
    """The principal, if its session (when it has one) has not ended: logout ends its tokens at once."""
    if principal.session_id and not deps.sessions.session_active(principal.session_id):
        raise _unauthenticated(errors.TOKEN_INVALID, "session has ended")
    return principal


def bearer_principal(deps: AccessDeps, authorization: str | None) -> Principal:
    """``Authorization: Bearer <token>`` -> the verified caller, session still open."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated(errors.UNAUTHENTICATED, "send Authorization: Bearer <token>")
    return session_open(deps, deps.verifier.verify(token.strip()))


def authenticate(deps: AccessDeps, authorization: str | None, verified: object = None) -> Principal:
    """A request's caller: one this process already verified (its session checked again), else the bearer's."""
    if isinstance(verified, Principal):
        return session_open(deps, verified)
    return bearer_principal(deps, authorization)


def tenant_of(tenant_header: str | None, env_header: str | None) -> tuple[str, str]:
    """``X-Tenant-Id`` and ``X-Env``, checked and normalised."""
    return check_tenant_id(tenant_header), normalise_env(env_header)


def tenant_context(deps: AccessDeps, principal: Principal, tenant_id: str, env: str,
                   min_role: Role) -> RequestContext:
    """The caller in a tenant: a member with at least ``min_role`` (asked of the store, never of
    a header or a token), or a service identity."""
    if principal.is_system:
        return RequestContext(tenant_id, env, principal, None)
    role = deps.memberships.role_of(tenant_id, principal.user_id)
    if role is None:
        raise errors.StudioError(errors.NOT_A_MEMBER)
    if not role.at_least(min_role):
        raise errors.StudioError(errors.ROLE_INSUFFICIENT, f"needs {min_role.value}, caller is {role.value}")
    return RequestContext(tenant_id, env, principal, role)


def ticket_context(deps: AccessDeps, ticket: str, stream: str, min_role: Role) -> RequestContext:
    """Redeem a ticket for ``stream``: its issuer's context, as if the issuer had just asked."""
    grant = TicketService(deps.store).redeem(ticket, stream)
    principal = session_open(deps, Principal(grant.user_id, session_id=grant.session_id))
    return tenant_context(deps, principal, grant.tenant_id, grant.env, min_role)


def recheck(deps: AccessDeps, ctx: RequestContext, min_role: Role) -> RequestContext:
    """What a long-lived stream asks again: the session still open, still a member with the role."""
    return tenant_context(deps, session_open(deps, ctx.principal), ctx.tenant_id, ctx.env, min_role)

"""Who may open a realtime stream: a single-use ticket (browsers) or a bearer token with
tenant headers (other clients), through the kernel's one access module (``kernel/access.py``),
as every HTTP route asks. The caller must be a member of the tenant and the thread must exist
there. Refused before any data is sent."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from anyio import to_thread

from studio.kernel import access, errors
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.realtime.channels import META, ThreadChannel

__all__ = ["META", "Grant", "authorize", "recheck", "refusal"]


@dataclass(frozen=True)
class Grant:
    """An open stream's caller and what it streams (a thread id, or META)."""

    ctx: RequestContext
    thread_id: str

    @property
    def tenant_id(self) -> str:
        return self.ctx.tenant_id

    @property
    def env(self) -> str:
        return self.ctx.env

    @property
    def user_id(self) -> str:
        return self.ctx.user_id

    @property
    def principal(self) -> Principal:
        return self.ctx.principal

    @property
    def session_id(self) -> str | None:
        return self.ctx.principal.session_id


def authorize(deps: access.AccessDeps, channel: ThreadChannel | None, *, thread_id: str, ticket: str | None,
              headers: Mapping[str, str], min_role: Role = Role.VIEWER) -> Grant:
    """``channel`` None: the tenant's meta channel (``thread_id`` is META)."""
    if ticket:
        ctx = access.ticket_context(deps, ticket, thread_id, min_role)
    else:
        principal = access.bearer_principal(deps, headers.get("authorization"))
        tenant_id, env = access.tenant_of(headers.get("x-tenant-id"), headers.get("x-env"))
        ctx = access.tenant_context(deps, principal, tenant_id, env, min_role)
    if channel is not None and channel.find(deps.store, ctx.tenant_id, ctx.env, thread_id) is None:
        raise errors.NotFound("no such thread")
    return Grant(ctx, thread_id)


def recheck(deps: access.AccessDeps, grant: Grant, min_role: Role = Role.VIEWER) -> Grant:
    """A long-lived stream re-asks what a request would: session still open, still a member (with
    the role). Logged-out or removed users lose the stream, not just the next reconnect."""
    return Grant(access.recheck(deps, grant.ctx, min_role), grant.thread_id)


async def refusal(deps: access.AccessDeps, grant: Grant) -> errors.StudioError | None:
    """``recheck`` off the event loop, for a stream's upkeep: None while the client may still
    listen, else the refusal the stream ends with (each transport says it its own way)."""
    try:
        await to_thread.run_sync(lambda: recheck(deps, grant))
    except errors.StudioError as err:
        return err
    return None

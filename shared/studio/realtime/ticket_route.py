"""HTTP routes the realtime gateway owns: tickets. A factory (the ticket route needs the thread
channels), composed into the chat function by ``studio/wiring.py`` rather than listed as a row's
``routers``; served through the kernel like any route."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.kernel.tickets import TicketService
from studio.realtime.channels import META, ThreadChannel, find_thread

if TYPE_CHECKING:
    from studio.realtime import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.realtime.models")


def ticket_router(channels: tuple[ThreadChannel, ...]) -> Router:
    router = Router("realtime")

    # Not idempotent: a ticket is a credential, and a replay record would keep it for 24 h.
    @router.tenant("POST", "/realtime/tickets", role=Role.VIEWER, body=m.TicketIn, response=m.TicketOut, status=201,
                   idempotent=False)
    def issue_ticket(call: Call) -> Any:
        """A single-use ticket (30 s) for a browser's EventSource or WebSocket on one thread (or "meta")."""
        ctx = call.need_ctx()
        stream = call.body.thread_id
        if stream != META and find_thread(channels, call.deps.store, ctx.tenant_id, ctx.env, stream) is None:
            raise errors.NotFound("no such thread")
        return TicketService(call.deps.store).issue(ctx, stream)

    return router

"""Single-use, 30-second tickets: how a browser (which cannot set headers on EventSource or
WebSocket) proves who it is to the realtime gateway. Only a hash of the ticket is stored."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.kernel.context import RequestContext
from studio.ports.store import DocumentStore

TTL_S = 30


@dataclass(frozen=True)
class TicketGrant:
    tenant_id: str
    env: str
    user_id: str
    thread_id: str


def _path(ticket: str) -> str:
    return "realtime_tickets/" + hashlib.sha256(ticket.encode()).hexdigest()


class TicketService:
    def __init__(self, store: DocumentStore, clock: Any = time.time) -> None:
        self._store = store
        self._clock = clock

    def issue(self, ctx: RequestContext, thread_id: str) -> dict[str, Any]:
        ticket = "tk_" + secrets.token_urlsafe(24)
        self._store.create(_path(ticket), {"tenant_id": ctx.tenant_id, "env": ctx.env, "user_id": ctx.user_id,
                                           "thread_id": thread_id, "expires_at": self._clock() + TTL_S})
        return {"ticket": ticket, "expires_in": TTL_S, "thread_id": thread_id}

    def redeem(self, ticket: str, thread_id: str) -> TicketGrant:
        """Consumes the ticket whatever happens next: a second use always fails."""
        if not ticket.startswith("tk_") or len(ticket) > 100:
            raise errors.StudioError(errors.UNAUTHENTICATED, "invalid ticket")

        def take(tx: Any) -> dict[str, Any] | None:
            doc = tx.get(_path(ticket))
            if doc is None:
                return None
            tx.delete(doc.path)
            return dict(doc.data)

        data = self._store.run_transaction(take)
        if data is None or data["expires_at"] < self._clock():
            raise errors.StudioError(errors.UNAUTHENTICATED, "ticket unknown, used or expired")
        if data["thread_id"] != thread_id:
            raise errors.StudioError(errors.FORBIDDEN, "ticket is for another thread")
        return TicketGrant(data["tenant_id"], data["env"], data["user_id"], data["thread_id"])

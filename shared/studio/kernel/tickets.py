"""Single-use, 30-second tickets: how a browser (which cannot set headers on EventSource or
WebSocket) proves who it is to the realtime gateway. Only a hash of the ticket is stored.

A ticket names the session it was issued in, so a stream opened with it ends with that
session, exactly as one opened with the session's bearer token does.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.kernel.context import RequestContext
from studio.ports.store import DocumentStore, Transaction

TTL_S = 30
COLLECTION = "realtime_tickets"


@dataclass(frozen=True)
class TicketGrant:
    tenant_id: str
    env: str
    user_id: str
    stream: str  # a thread id, or "meta"
    session_id: str | None


def _path(ticket: str) -> str:
    return f"{COLLECTION}/" + hashlib.sha256(ticket.encode()).hexdigest()


class TicketService:
    def __init__(self, store: DocumentStore, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def issue(self, ctx: RequestContext, stream: str) -> dict[str, Any]:
        ticket = "tk_" + secrets.token_urlsafe(24)
        expires = self._clock() + TTL_S
        self._store.create(_path(ticket), {
            "tenant_id": ctx.tenant_id, "env": ctx.env, "user_id": ctx.user_id,
            "session_id": ctx.principal.session_id, "thread_id": stream, "expires_at": expires,
            "expire_at_ts": expires})  # Firestore's TTL policy removes tickets never redeemed
        return {"ticket": ticket, "expires_in": TTL_S, "thread_id": stream}

    def redeem(self, ticket: str, stream: str) -> TicketGrant:
        """Consumes the ticket whatever happens next: a second use always fails."""
        if not ticket.startswith("tk_") or len(ticket) > 100:
            raise errors.StudioError(errors.UNAUTHENTICATED, "invalid ticket")

        def take(tx: Transaction) -> dict[str, Any] | None:
            doc = tx.get(_path(ticket))
            if doc is None:
                return None
            tx.delete(doc.path)
            return dict(doc.data)

        data = self._store.run_transaction(take)
        if data is None or data["expires_at"] < self._clock():
            raise errors.StudioError(errors.UNAUTHENTICATED, "ticket unknown, used or expired")
        if data["thread_id"] != stream:
            raise errors.StudioError(errors.FORBIDDEN, "ticket is for another stream")
        return TicketGrant(data["tenant_id"], data["env"], data["user_id"], data["thread_id"],
                           data.get("session_id"))

"""The server's ASGI ``send``, kept in the scope for the streams' writes.

Starlette wraps ``send`` once per layer (exception handling, the route, the WebSocket state
machine) to note whether a response has started. A stream that is already open needs none
of that for its body chunks or frames, and a fan-out to a thousand subscribers paid every
wrapper a thousand times per event (about a fifth of its cost). Installed as the app's first
middleware, this keeps the ``send`` it was given; the realtime streams write through it.
So a middleware added after it never sees a stream's body, and the fan-out's writes run in its
loop callback's context, not the connection task's: nothing on this path may rely on either.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

SCOPE_KEY = "studio.server_send"


class ServerSend:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope[SCOPE_KEY] = send
        await self.app(scope, receive, send)


def server_send(scope: Scope) -> Send:
    """The send ServerSend kept (an app serving the realtime routes must install it: see app.py)."""
    send: Send = scope[SCOPE_KEY]
    return send

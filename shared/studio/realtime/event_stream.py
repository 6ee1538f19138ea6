"""A ``text/event-stream`` response that hands its ASGI ``send`` to the stream's code.

Starlette's StreamingResponse pulls chunks from an async generator, so every event costs a
task wakeup. The realtime feed instead writes events from its fan-out (subscriber.py), which
needs the connection's ``send`` itself: ``run(send)`` writes the body, and the response ends
when ``run`` returns or when the client goes away, whichever comes first.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from studio.realtime.server_send import server_send


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(self, run: Callable[[Send], Awaitable[None]], headers: Mapping[str, str] | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        self._run = run
        self._on_close = on_close  # runs however the response ends, even if it never started
        self.status_code = 200
        self.background = None
        self.init_headers(headers)  # no body: no Content-Length, so the server sends it chunked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._respond(scope, receive, send)
        finally:
            if self._on_close is not None:
                self._on_close()

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})

        async def client_gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        stream = asyncio.ensure_future(self._run(server_send(scope)))  # the body skips Starlette's wrappers
        watcher = asyncio.ensure_future(client_gone())
        try:
            done, _ = await asyncio.wait((stream, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watcher):
                task.cancel()
            await asyncio.wait((stream, watcher))
        for task in (stream, watcher):  # an error in either is raised (and logged), never dropped
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        if watcher not in done:  # the stream ended and the client is still there: end the body
            await send({"type": "http.response.body", "body": b"", "more_body": False})

"""The request body, read whole in the event loop before the app sees the request.

A WSGI function runs in a worker thread (a2wsgi's pool) and reads its body there, blocking: ten
clients sending a body at one byte every two seconds held all ten threads, and every REST route
waited behind them. Read here, a slow body costs a coroutine, not a thread, and it is bounded:
a body over the cap is a 413 and one that has not arrived by its deadline a 408, both
problem+json that close the connection. The deadline is ``body_timeout_s`` plus
``1/body_min_rate_bps`` per byte received (Apache's mod_reqtimeout rule): a large upload at a
sane rate finishes, a trickle does not gain time.

Most clients read nothing before they have sent their whole body, and a server that closes with
bytes unread resets the connection, which loses its answer. So a body at most ``DISCARD_BYTES``
over the cap is read to its end (and dropped, under the same deadline) before the 413; a larger
declared one, or one whose client waits for ``100 Continue``, is refused at once.

The app then gets the body in one ``http.request`` message, with a Content-Length in place of a
chunked Transfer-Encoding (the body is whole now), and later ``receive`` calls (a stream's
disconnect) go to the server as before. WebSocket and lifespan scopes pass through untouched.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from studio.kernel import errors, logs
from studio.kernel.http_limits import HttpLimits, refusal

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logs.get("studio.http")
DISCARD_BYTES = 4 << 20


class _TooLarge(Exception):
    pass


class BoundedBody:
    """``larger`` maps a path prefix (e.g. ``/_blobs/``) to its own byte cap."""

    def __init__(self, app: ASGIApp, limits: HttpLimits, *, larger: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limits = limits
        self._larger = sorted((larger or {}).items(), key=lambda item: len(item[0]), reverse=True)

    def max_bytes(self, path: str) -> int:
        for prefix, cap in self._larger:
            if path.startswith(prefix):
                return cap
        return self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        cap = self.max_bytes(scope["path"])
        declared = _content_length(headers)
        waits = any(name == b"expect" and value.lower() == b"100-continue" for name, value in headers)
        try:
            if declared is not None and declared > cap and (waits or declared > cap + DISCARD_BYTES):
                raise _TooLarge
            body = await self._read(receive, cap)
        except _TooLarge:
            await self._refuse(scope, send, errors.PAYLOAD_TOO_LARGE, f"the body may hold at most {cap} bytes")
            return
        except TimeoutError:
            await self._refuse(scope, send, errors.REQUEST_TIMEOUT, "the body did not arrive in time")
            return
        if body is None:  # the client left before sending it all: nobody to answer, and not our error
            method, path = scope.get("method", "-"), scope["path"]
            _log.info("client closed the request", extra={"fields": {"path": path, "status": 499}})
            # the access line a function would have written (nginx's 499: the client closed it)
            _log.info("%s %s %s", method, path, 499, extra={"fields": {
                "httpRequest": {"requestMethod": method, "requestUrl": path, "status": 499}, "function": "edge"}})
            return
        if declared is None and any(name == b"transfer-encoding" for name, _ in headers):
            scope = dict(scope, headers=[*((n, v) for n, v in headers if n != b"transfer-encoding"),
                                         (b"content-length", str(len(body)).encode())])
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive, cap: int) -> bytes | None:
        """The body; None when the client left. _TooLarge past ``cap`` once the body ended (or
        ``DISCARD_BYTES`` more arrived, or the deadline passed); TimeoutError when it is late."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout_at(started + self.limits.body_timeout_s) as deadline:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size <= cap:
                        chunks.append(chunk)
                    elif chunks:
                        chunks = []  # over the cap: read on to the end, keep nothing
                    if not message.get("more_body", False) or size > cap + DISCARD_BYTES:
                        break
                    deadline.reschedule(started + self.limits.body_timeout_s + size / self.limits.body_min_rate_bps)
        except TimeoutError:
            if size > cap:
                raise _TooLarge from None
            raise
        if size > cap:
            raise _TooLarge
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _refuse(self, scope: Scope, send: Send, code: errors.ErrorCode, detail: str) -> None:
        incoming = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"x-request-id"), None)
        status, headers, body = refusal(code, detail, path=scope["path"], request_id=incoming)
        client = scope.get("client") or ("-", 0)
        _log.warning("%s %s %s", scope["method"], scope["path"], status,
                     extra={"fields": {"code": code.code, "client": client[0]}})
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            if not value.isdigit():
                return None  # the server's parser refuses malformed ones before we see them
            return int(value) if len(value) < 19 else 1 << 63  # no 4,300-digit int() for a number this large
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed

"""uvicorn, as the servers we run ourselves use it: the request head bounded in time and size.

uvicorn's httptools protocol bounds neither: a client could send a header one byte every few
seconds for ever (each byte even cancelled the keep-alive timer), and a 1 MiB header was
accepted. This protocol gives every request head ``head_timeout_s`` from its first byte (a new
connection's clock starts when it opens, so a socket that never speaks is closed too) and
``max_head_bytes``; past either the client gets a problem+json 408 or 431 and the connection
closes. Between requests uvicorn's keep-alive timeout (``keep_alive_s``) closes idle connections.
The body's limits are ``kernel.asgi_body``'s. Imported only by servers (it imports uvicorn).
"""
from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from studio.kernel import errors, logs
from studio.kernel.http_limits import HttpLimits, refusal

_log = logs.get("studio.http")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True  # between a request's end (or the connection's start) and its head's end
        self._head_bytes = 0  # bytes of the open head received so far (whole reads; see data_received)
        self._heads_done = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    # -- the connection ------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows asyncio's BaseTransport; we keep its signature
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._head_open and self._head_timer is None:
            self._arm_head_timer()  # the first byte of the next request on a kept-alive connection
        was_open, heads_done = self._head_open, self._heads_done
        super().data_received(data)
        # A read that neither began nor ended a head is all head (one that ended it is measured
        # exactly in on_headers_complete; one that ended a body counts from the next read), so a
        # head too large to ever finish is stopped here, before the parser has buffered much.
        if was_open and self._head_open and heads_done == self._heads_done and not self._refused:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(errors.HEADERS_TOO_LARGE, f"request line and headers may hold {self.limits.max_head_bytes} bytes")

    # -- the parser's callbacks: nothing more is parsed for a refused connection ------------
    def on_message_begin(self) -> None:
        if not self._refused:
            super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if not self._refused:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._refused:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._head_open = False
        self._heads_done += 1
        self._head_bytes = 0
        self._cancel_head_timer()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_head_bytes:
            self._refuse(errors.HEADERS_TOO_LARGE, f"request line and headers may hold {self.limits.max_head_bytes} bytes")
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
        self._head_open = True  # the next request's head starts with its first byte

    # -- refusing ---------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_bytes == 0:
            self._refused = True
            self.transport.close()  # a connection that never said anything: nobody to answer
            return
        self._refuse(errors.REQUEST_TIMEOUT, f"request line and headers must arrive within {self.limits.head_timeout_s:g} s")

    def _refuse(self, code: errors.ErrorCode, detail: str) -> None:
        self._refused = True
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        client = self.client[0] if self.client else "-"
        _log.warning("request head refused: %s", code.code, extra={"fields": {"code": code.code, "client": client}})
        if self.cycle is None or self.cycle.response_complete:  # never in the middle of another response
            target: bytes = getattr(self, "url", b"")  # set once the request line began
            path = target.partition(b"?")[0][:256].decode("latin-1")  # never the query: it may hold a ticket
            status, headers, body = refusal(code, detail, path=path)
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
            head += [name + b": " + value + b"\r\n" for name, value in headers]
            self.transport.write(b"".join(head) + b"\r\n" + body)
        self.transport.close()


def guarded_protocol(limits: HttpLimits) -> type[GuardedHttpToolsProtocol]:
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})


def server_options(limits: HttpLimits) -> dict[str, Any]:
    """uvicorn.Config/uvicorn.run keywords that apply ``limits`` (the body's are BoundedBody's)."""
    return {"http": guarded_protocol(limits), "timeout_keep_alive": limits.keep_alive_s,
            "ws_max_size": limits.max_body_bytes}

"""The HTTP edge of the ASGI apps (the realtime gateway, the local runtime), doing for them what
``HttpApp.__call__`` does for every function:

* one request id per request, from a sane ``X-Request-Id`` of the caller or minted: written
  back into the request's headers (so an app behind, such as a mounted WSGI function or the
  blob app, keeps it instead of minting its own), held in ``logs.request_id_var`` while the
  request runs (log lines, problem bodies), and sent back as ``X-Request-Id`` on every answer,
  the WebSocket handshake's included;
* CORS (kernel/cors.py): preflights answered before routing, the headers on every answer.
  ``cors_defer(path)`` names paths whose app applies CORS itself (the local runtime's functions);
* an exception that escapes before an answer started becomes problem+json 500 with the id
  (and is raised again for the server to log), not the server's plain-text page.

Only the start of a response passes through here: stream bodies written with the server's own
``send`` (realtime/server_send.py) never do. Pure ASGI, no framework import.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

from studio.kernel import cors, errors, logs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
Asgi = Callable[[Scope, Receive, Send], Any]

_REQUEST_ID = b"x-request-id"
_STARTS = ("http.response.start", "websocket.accept", "websocket.http.response.start")


class AsgiEdge:
    def __init__(self, app: Asgi, *, cors_origins: Callable[[Scope], Iterable[str]],
                 cors_defer: Callable[[str], bool] | None = None) -> None:
        self.app = app
        self._origins = cors_origins
        self._defer = cors_defer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = scope.get("headers", [])
        header = _header_reader(raw)
        request_id = logs.new_request_id(header(_REQUEST_ID))
        stamp = (_REQUEST_ID, request_id.encode())
        scope = {**scope, "headers": [*(h for h in raw if h[0].lower() != _REQUEST_ID), stamp]}
        path: str = scope.get("path", "")
        policy = None
        if scope["type"] == "http" and not (self._defer is not None and self._defer(path)):
            policy = cors.policy(tuple(self._origins(scope)))
        origin, asked = header(b"origin"), header(b"access-control-request-method")
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal started
            if message["type"] in _STARTS:
                started = True
                headers = list(message.get("headers", []))
                if not any(k.lower() == _REQUEST_ID for k, _ in headers):
                    headers.append(stamp)
                if policy is not None and message["type"] == "http.response.start":
                    headers = cors.stamp_asgi(policy, origin, headers)
                message = {**message, "headers": headers}
            await send(message)

        token = logs.request_id_var.set(request_id)
        try:
            if policy is not None and cors.is_preflight(scope["method"], origin, asked):
                await _preflight(policy, origin, asked, path, request_id, edge_send)
                return
            await self.app(scope, receive, edge_send)
        except Exception:
            if scope["type"] == "http" and not started:
                await _problem(errors.StudioError(errors.INTERNAL), path, request_id, edge_send)
            raise
        finally:
            logs.request_id_var.reset(token)


def _header_reader(raw: Iterable[tuple[bytes, bytes]]) -> Callable[[bytes], str | None]:
    headers = list(raw)

    def get(name: bytes) -> str | None:
        return next((v.decode("latin-1") for k, v in headers if k.lower() == name), None)

    return get


async def _preflight(policy: cors.CorsPolicy, origin: str | None, asked: str | None, path: str,
                     request_id: str, send: Send) -> None:
    try:
        answer = cors.preflight(policy, origin, asked)
    except errors.StudioError as err:
        await _problem(err, path, request_id, send)
        return
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.items()]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _problem(err: errors.StudioError, path: str, request_id: str, send: Send) -> None:
    from studio.kernel.problems import PROBLEM_JSON, problem_body

    body = json.dumps(problem_body(err, instance=path, request_id=request_id)).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in err.headers.items())]
    await send({"type": "http.response.start", "status": err.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

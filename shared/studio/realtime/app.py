"""The realtime gateway as an ASGI app: mounted by the local runtime under the same base URL,
and run by uvicorn on Cloud Run in production (infra/realtime/)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from studio.kernel import logs
from studio.realtime import sse, ws
from studio.realtime.gateway_state import GatewayState
from studio.realtime.server_send import ServerSend

_log = logs.get("studio.realtime")


async def _client_closed(request: Request, exc: Exception) -> Response:
    """A client gone mid-body (SSE POST) is its own doing: nginx's 499 at INFO, not an ASGI error."""
    _log.info("client closed the request", extra={"fields": {"path": request.url.path, "status": 499}})
    return Response(status_code=499)


# Any app that serves the gateway's routes installs these (the local runtime mounts the routes in its own app).
MIDDLEWARE = [Middleware(ServerSend)]
EXCEPTION_HANDLERS: dict[Any, Any] = {ClientDisconnect: _client_closed}


def create_gateway(deps: Any, **timing: float) -> Starlette:
    s = deps.settings
    state = GatewayState(deps, **{"heartbeat_s": s.sse_heartbeat_s, "ws_ping_s": s.ws_ping_s,
                                  "ws_idle_s": s.ws_idle_s, **timing})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "function": "realtime", "open_feeds": state.feeds.open_feeds(),
                             "deliveries": asdict(state.deliveries)})

    app = Starlette(routes=[
        Route("/sse/chat/{thread_id}", sse.stream_thread, methods=["GET"]),
        Route("/sse/chat/{thread_id}", sse.send_message, methods=["POST"]),
        Route("/sse/meta", sse.stream_meta, methods=["GET"]),
        WebSocketRoute("/ws/chat/{thread_id}", ws.chat_socket),
        WebSocketRoute("/ws/meta", ws.meta_socket),
        Route("/healthz/realtime", healthz),
    ], middleware=MIDDLEWARE, exception_handlers=EXCEPTION_HANDLERS)
    app.state.gateway = state
    return app

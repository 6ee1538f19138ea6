"""The realtime gateway as an ASGI app: mounted by the local runtime under the same base URL,
and run by uvicorn on Cloud Run in production (infra/realtime/)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from studio.kernel.asgi_edge import AsgiEdge
from studio.realtime import sse, ws
from studio.realtime.gateway_state import GatewayState
from studio.realtime.server_send import ServerSend


def _cors_origins(scope: Any) -> tuple[str, ...]:
    origins: tuple[str, ...] = scope["app"].state.gateway.deps.settings.cors_origins
    return origins


def middleware(cors_defer: Callable[[str], bool] | None = None) -> list[Middleware]:
    """What any app that serves the gateway's routes installs (the local runtime mounts the routes
    in its own app, and names the paths its functions answer, which apply CORS themselves).
    The edge (request id, CORS) sits inside ServerSend, so stream bodies never pass through it."""
    return [Middleware(ServerSend), Middleware(AsgiEdge, cors_origins=_cors_origins, cors_defer=cors_defer)]


MIDDLEWARE = middleware()


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
    ], middleware=MIDDLEWARE)
    app.state.gateway = state
    return app

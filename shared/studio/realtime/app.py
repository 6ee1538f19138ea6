"""The realtime gateway as an ASGI app: mounted by the local runtime under the same base URL,
and run by uvicorn on Cloud Run in production (infra/realtime/)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from studio.kernel import logs
from studio.kernel.asgi_edge import AsgiEdge
from studio.kernel.deps import Deps
from studio.realtime import sse, ws
from studio.realtime.channels import ThreadChannel
from studio.realtime.gateway_state import Dispatch, GatewayState
from studio.realtime.server_send import ServerSend


def _cors_origins(scope: Any) -> tuple[str, ...]:
    origins: tuple[str, ...] = scope["app"].state.gateway.deps.settings.cors_origins
    return origins
_log = logs.get("studio.realtime")


async def _client_closed(request: Request, exc: Exception) -> Response:
    """A client gone mid-body (SSE POST) is its own doing: nginx's 499 at INFO, not an ASGI error."""
    _log.info("client closed the request", extra={"fields": {"path": request.url.path, "status": 499}})
    return Response(status_code=499)


# Any app that serves the gateway's routes installs these (the local runtime mounts the routes in its own app).
EXCEPTION_HANDLERS: dict[Any, Any] = {ClientDisconnect: _client_closed}


def middleware(cors_defer: Callable[[str], bool] | None = None) -> list[Middleware]:
    """What any app that serves the gateway's routes installs (the local runtime mounts the routes
    in its own app, and names the paths its functions answer, which apply CORS themselves).
    The edge (request id, CORS) sits inside ServerSend, so stream bodies never pass through it."""
    return [Middleware(ServerSend), Middleware(AsgiEdge, cors_origins=_cors_origins, cors_defer=cors_defer)]


MIDDLEWARE = middleware()


def create_gateway(deps: Deps, channels: tuple[ThreadChannel, ...] = (), dispatch: Dispatch | None = None, *,
                   heartbeat_s: float | None = None, ws_ping_s: float | None = None,
                   ws_idle_s: float | None = None) -> Starlette:
    """The gateway for ``channels`` (the thread kinds the composition root registers, studio/wiring.py),
    whose sends ``dispatch`` (the kernel app serving their send routes) runs. The timing knobs
    default to the settings'."""
    s = deps.settings
    state = GatewayState(deps, channels, dispatch,
                         heartbeat_s=s.sse_heartbeat_s if heartbeat_s is None else heartbeat_s,
                         ws_ping_s=s.ws_ping_s if ws_ping_s is None else ws_ping_s,
                         ws_idle_s=s.ws_idle_s if ws_idle_s is None else ws_idle_s,
                         streams_per_user=s.streams_per_user)

    async def healthz(request: Request) -> JSONResponse:
        body: dict[str, Any] = {"status": "ok", "function": "realtime", "open_feeds": state.open_feeds(),
                                "open_streams": state.streams.total(), "deliveries": asdict(state.deliveries),
                                "feed_source": "store-listeners"}
        if state.heap is not None:  # decision 0104: what the process's collector holds and did
            body["gc"] = state.heap.snapshot()
        if state.broker_feeds is not None:  # decision 0075: how many store reads the broker's hints caused
            hub = state.broker_feeds
            body.update(feed_source="broker", broker_feed_reads={"full": hub.full_reads, "chunks": hub.chunk_reads},
                        broker_hints=asdict(hub.hints))  # decision 0106: delivered from payloads, or why not
        return JSONResponse(body)

    routes: list[BaseRoute] = []
    for channel in channels:
        routes += [
            Route(f"/sse/{channel.kind}/{{thread_id}}", partial(sse.stream_thread, channel=channel), methods=["GET"]),
            Route(f"/sse/{channel.kind}/{{thread_id}}", partial(sse.send_message, channel=channel), methods=["POST"]),
            WebSocketRoute(f"/ws/{channel.kind}/{{thread_id}}", partial(ws.chat_socket, channel=channel)),
        ]
    app = Starlette(routes=[
        *routes,
        Route("/sse/meta", sse.stream_meta, methods=["GET"]),
        WebSocketRoute("/ws/meta", ws.meta_socket),
        Route("/healthz/realtime", healthz),
    ], middleware=MIDDLEWARE, exception_handlers=EXCEPTION_HANDLERS)
    app.state.gateway = state
    return app

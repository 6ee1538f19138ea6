"""The whole platform on one machine: every HTTP function behind one base URL, event
functions fed by the durable local bus, data kept in ./.data across restarts."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2wsgi import WSGIMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from infra.localrun import http_gateway, loader
from infra.localrun import manifest as manifest_mod
from infra.localrun.docs_page import DOCS_HTML
from infra.localrun.event_delivery import EventDelivery
from studio.adapters.local_blobs import signed_blob_wsgi_app
from studio.bootstrap import Deps, bootstrap
from studio.config import Settings
from studio.kernel import errors
from studio.kernel.openapi import build_openapi
from studio.kernel.problems import PROBLEM_JSON, problem_body
from studio.realtime.app import EXCEPTION_HANDLERS as REALTIME_EXCEPTION_HANDLERS
from studio.realtime.app import MIDDLEWARE as REALTIME_MIDDLEWARE
from studio.realtime.app import create_gateway

CONSOLE_CHAT = Path(__file__).parent / "console" / "chat.html"


@dataclass
class LocalPlatform:
    app: Starlette
    deps: Deps
    delivery: EventDelivery
    manifest: manifest_mod.Manifest
    openapi: dict[str, Any]


def _not_found(path: str, status: int = 404) -> Any:
    """What the runtime answers when no function owns a path (or the method is foreign)."""
    from werkzeug.wrappers import Response

    if status == 405:
        err = errors.StudioError(errors.METHOD_NOT_ALLOWED)
    elif status == 404:
        err = errors.StudioError(errors.ROUTE_NOT_FOUND, f"no function serves {path}")
    else:
        err = errors.StudioError(errors.BAD_REQUEST, status=status)
    body = problem_body(err, instance=path, request_id="")
    return Response(json.dumps(body), status=err.status, content_type=PROBLEM_JSON)


def build(settings: Settings | None = None, manifest_path: Path = manifest_mod.MANIFEST) -> LocalPlatform:
    settings = settings or Settings.from_env()
    deps = bootstrap(settings)
    manifest = manifest_mod.load(manifest_path)
    delivery = EventDelivery(deps, manifest.events())
    routes = [r for spec in manifest.http() for r in loader.http_app(spec).table.routes]
    openapi = build_openapi(routes, server_url=settings.public_url)
    gateway = http_gateway.build(manifest.http(), _not_found)
    blobs = signed_blob_wsgi_app(deps.blobs, delivery.storage_finalized)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "functions": [f.name for f in manifest.functions],
                             "delivery": dict(delivery.counters)})

    async def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(openapi)

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    async def console_chat(request: Request) -> HTMLResponse:
        return HTMLResponse(CONSOLE_CHAT.read_text())

    async def framework_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        legacy = _not_found(request.url.path, status)
        return Response(legacy.get_data(), status_code=legacy.status_code, media_type=PROBLEM_JSON)

    realtime = create_gateway(deps)
    app = Starlette(exception_handlers={HTTPException: framework_error, **REALTIME_EXCEPTION_HANDLERS},
                    middleware=REALTIME_MIDDLEWARE, routes=[
        *realtime.routes,  # the realtime gateway (SSE, WebSocket) under the same base URL
        Route("/healthz", healthz),
        Route("/openapi.json", openapi_json),
        Route("/docs", docs),
        Route("/console/chat", console_chat),
        Mount("/_blobs", WSGIMiddleware(blobs)),  # type: ignore[arg-type]
        Mount("/", WSGIMiddleware(gateway)),  # type: ignore[arg-type]
    ])
    app.state.gateway = realtime.state.gateway
    return LocalPlatform(app, deps, delivery, manifest, openapi)


def banner(platform: LocalPlatform, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    lines = [f"Studio platform (embedded adapters) at {base}",
             f"  docs      {base}/docs", f"  console   {base}/console/chat",
             f"  realtime  {base}/sse/chat/<thread>  ws://{host}:{port}/ws/chat/<thread>", f"  openapi   {base}/openapi.json", f"  health    {base}/healthz",
             f"  data      {platform.deps.settings.data_dir.resolve()}", "  functions:"]
    for spec in platform.manifest.functions:
        where = ", ".join(spec.routes) if spec.kind == "http" else spec.trigger
        lines.append(f"    {spec.name:<22} {where}")
    return "\n".join(lines)


def main() -> None:
    import uvicorn

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8080"))
    manifest_path = Path(os.environ.get("STUDIO_MANIFEST", str(manifest_mod.MANIFEST)))
    platform = build(manifest_path=manifest_path)
    platform.delivery.start()
    print(banner(platform, host, port), flush=True)
    try:
        uvicorn.run(platform.app, host=host, port=port, log_level=os.environ.get("UVICORN_LOG_LEVEL", "warning"),
                    ws_per_message_deflate=False)  # small JSON frames: compression cost more than it saved
    finally:
        platform.delivery.stop()

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
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route

from infra.localrun import http_gateway, loader
from infra.localrun import manifest as manifest_mod
from infra.localrun.console_pages import console_routes
from infra.localrun.docs_page import DOCS_HTML
from infra.localrun.event_delivery import EventDelivery
from infra.localrun.outbox_page import outbox_routes
from studio import domains
from studio.adapters.local_blob_server import signed_blob_wsgi_app
from studio.adapters.local_blobs import DEFAULT_MAX_UPLOAD
from studio.adapters.private_files import tighten_dir
from studio.bootstrap import Deps, bootstrap
from studio.config import Settings
from studio.contracts import realtime_asyncapi, realtime_openapi
from studio.kernel import errors, logs
from studio.kernel.asgi_body import BoundedBody
from studio.kernel.http_limits import HttpLimits
from studio.kernel.openapi import build_openapi
from studio.kernel.problems import PROBLEM_JSON, problem_body
from studio.realtime.app import EXCEPTION_HANDLERS as REALTIME_EXCEPTION_HANDLERS
from studio.realtime.app import middleware as realtime_middleware
from studio.wiring import realtime_gateway


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
    # The id kernel/asgi_edge gave this request (a2wsgi runs the WSGI side in a copy of its context).
    body = problem_body(err, instance=path, request_id=logs.request_id_var.get() or logs.new_request_id(None))
    return Response(json.dumps(body), status=err.status, content_type=PROBLEM_JSON)


def build(settings: Settings | None = None, manifest_path: Path = manifest_mod.MANIFEST,
          limits: HttpLimits | None = None) -> LocalPlatform:
    settings = settings or Settings.from_env()
    limits = limits or HttpLimits.from_env()
    tighten_dir(settings.data_dir)  # it holds password hashes and tokens (each adapter closes its own files)
    deps = bootstrap(settings)
    _ = deps.mailer  # opened now, so the outbox it keeps (sign-in codes) is closed before anyone reads it
    manifest = manifest_mod.load(manifest_path)
    delivery = EventDelivery(deps, manifest.events())
    routes = [r for spec in manifest.http() for r in loader.http_app(spec).table.routes]
    openapi = build_openapi(routes, server_url=settings.public_url, extra_paths=realtime_openapi.openapi_paths(),
                            extra_schemas=realtime_openapi.openapi_schemas(), error_codes=domains.error_codes())
    asyncapi = realtime_asyncapi.build_asyncapi(server_url=settings.public_url)
    gateway = http_gateway.build(manifest.http(), _not_found)
    blobs = signed_blob_wsgi_app(deps.blobs, delivery.storage_finalized)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "pid": os.getpid(), "functions": [f.name for f in manifest.functions],
                             "delivery": dict(delivery.counters)})

    async def openapi_json(request: Request) -> JSONResponse:
        return JSONResponse(openapi)

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    async def asyncapi_json(request: Request) -> JSONResponse:
        return JSONResponse(asyncapi)

    async def framework_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        legacy = _not_found(request.url.path, status)
        return Response(legacy.get_data(), status_code=legacy.status_code, media_type=PROBLEM_JSON,
                        headers=getattr(exc, "headers", None))  # e.g. Allow on a 405

    def function_owned(path: str) -> bool:  # its HttpApp applies CORS, as it does deployed
        return any(path == p or path.startswith(p + "/") for p in prefixes)

    prefixes = [p.rstrip("/") for spec in manifest.http() for p in spec.routes]
    realtime = realtime_gateway(deps)
    # Outermost: every body is read (bounded) before a route, or a WSGI worker thread, is involved.
    bounded = Middleware(BoundedBody, limits=limits, larger={"/_blobs/": DEFAULT_MAX_UPLOAD})
    app = Starlette(exception_handlers={HTTPException: framework_error, **REALTIME_EXCEPTION_HANDLERS}, routes=[
        *realtime.routes,  # the realtime gateway (SSE, WebSocket) under the same base URL
        Route("/healthz", healthz),
        Route("/openapi.json", openapi_json),
        Route("/asyncapi.json", asyncapi_json),
        Route("/docs", docs),
        *console_routes(settings.public_url),  # the console pages and their shared script (console.js)
        *outbox_routes(deps),  # the local mailer's outbox (loopback only)
        Mount("/_blobs", WSGIMiddleware(blobs)),  # type: ignore[arg-type]
        Mount("/", WSGIMiddleware(gateway)),  # type: ignore[arg-type]
    ], middleware=[bounded, *realtime_middleware(cors_defer=function_owned)])
    app.state.gateway = realtime.state.gateway
    return LocalPlatform(app, deps, delivery, manifest, openapi)


def banner(platform: LocalPlatform, host: str, port: int) -> str:
    base = f"http://{host}:{port}"
    lines = [f"Studio platform (embedded adapters) at {base}",
             f"  docs      {base}/docs",
             f"  console   {base}/console/chat  {base}/console/media  {base}/console/nexus  {base}/console/audits  {base}/console/experiments  {base}/console/render  {base}/console/outbox",
             f"  realtime  {base}/sse/chat/<thread>  ws://{host}:{port}/ws/chat/<thread>", f"  openapi   {base}/openapi.json  asyncapi {base}/asyncapi.json", f"  health    {base}/healthz",
             f"  data      {platform.deps.settings.data_dir.resolve()}", "  functions:"]
    for spec in platform.manifest.functions:
        where = ", ".join(spec.routes) if spec.kind == "http" else spec.trigger
        lines.append(f"    {spec.name:<22} {where}")
    return "\n".join(lines)


def main() -> None:
    import uvicorn

    from infra.localrun import fleet
    from studio.kernel.http_server import server_options

    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8080"))
    joined = fleet.member()
    if joined is None and fleet.processes() > 1:
        fleet.run_parent(fleet.processes(), host, port)  # N of this runtime on one port
        return
    manifest_path = Path(os.environ.get("STUDIO_MANIFEST", str(manifest_mod.MANIFEST)))
    limits = HttpLimits.from_env()
    platform = build(manifest_path=manifest_path, limits=limits)
    platform.app.state.gateway.start_heap_policy()  # after the build: what it made is frozen (decision 0104)
    options: dict[str, Any] = {
        "log_level": os.environ.get("UVICORN_LOG_LEVEL", "warning"),
        "ws_per_message_deflate": False,  # small JSON frames: compression cost more than it saved
        "proxy_headers": False,  # the peer is the client: X-Forwarded-For is not uvicorn's to trust
        **server_options(limits)}
    if joined is not None:  # one member of a fleet: the shared port, and one of its own
        index, shared = joined
        own = fleet.own_socket(host)
        if index == 0:
            platform.delivery.start()  # one relay per data folder
            print(banner(platform, host, port), flush=True)
        fleet.record(platform.deps.settings.data_dir, index, own.getsockname()[1])
        try:
            uvicorn.Server(uvicorn.Config(platform.app, **options)).run(sockets=[shared, own])
        finally:
            platform.delivery.stop()
        return
    platform.delivery.start()
    print(banner(platform, host, port), flush=True)
    try:
        uvicorn.run(platform.app, host=host, port=port, **options)
    finally:
        platform.delivery.stop()

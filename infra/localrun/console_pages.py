"""The local runtime's /console pages and the static files they share (console.js, console.css, each
page's own script), served by the same Starlette routes as the rest of the runtime.

A page names its files as ``/console/static/<name>``; it is served with each name pinned to the file's
content hash (``?v=<hash>``) and ``Cache-Control: no-cache``, so the browser revalidates the page, sees a
new hash when a script changed, and otherwise keeps the script for a year (``immutable``). Every script
is a file, none inline, so the pages carry a Content-Security-Policy with ``script-src 'self'``.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from studio.kernel import errors, logs
from studio.kernel.problems import PROBLEM_JSON, problem_body

CONSOLE = Path(__file__).parent / "console"
PAGES = ("chat", "experiments", "media", "nexus", "audits", "render")  # the outbox: outbox_page.py (loopback)
STATIC = "/console/static/"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\.(?:js|css)$")
_REFERENCE = re.compile(re.escape(STATIC) + r'([a-z0-9][a-z0-9_-]{0,63}\.(?:js|css))"')
YEAR = "public, max-age=31536000, immutable"


def content_hash(name: str) -> str:
    return hashlib.sha256((CONSOLE / name).read_bytes()).hexdigest()[:16]


def csp(extra_origins: Iterable[str] = ()) -> str:
    """Scripts and styles from this origin only (styles may be inline: the pages' <style> blocks); media
    and fetches also from the public URL's origin, where signed blob URLs point when it is another host."""
    more = "".join(" " + o for o in sorted(set(extra_origins)))
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: blob:{more}; media-src 'self' blob:{more}; connect-src 'self'{more}; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def page_response(page: Path, extra_origins: Iterable[str] = ()) -> Response:
    """One console page, its static references pinned to their current content hashes."""
    html = _REFERENCE.sub(lambda m: f'{STATIC}{m.group(1)}?v={content_hash(m.group(1))}"', page.read_text())
    return Response(html, media_type="text/html; charset=utf-8", headers={
        "Content-Security-Policy": csp(extra_origins), "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


def _missing(request: Request) -> Response:
    err = errors.StudioError(errors.ROUTE_NOT_FOUND, f"no console file at {request.url.path}")
    return JSONResponse(problem_body(err, instance=request.url.path, request_id=logs.request_id_var.get() or ""),
                        status_code=404, media_type=PROBLEM_JSON)


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    if not _NAME.match(name) or not (CONSOLE / name).is_file():
        return _missing(request)
    body = (CONSOLE / name).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:16]
    # The pinned URL is forever; any other (unpinned, or an old hash) revalidates on every load.
    headers = {"ETag": f'"{digest}"', "X-Content-Type-Options": "nosniff",
               "Cache-Control": YEAR if request.query_params.get("v") == digest else "no-cache"}
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_TYPES[Path(name).suffix], headers=headers)


def console_routes(public_url: str) -> list[Route]:
    blob_origin = [o for o in (origin_of(public_url),) if o]

    def serve(name: str) -> Route:
        async def page(request: Request) -> Response:
            return page_response(CONSOLE / f"{name}.html", blob_origin)
        return Route(f"/console/{name}", page, name=f"console_{name}")

    return [*(serve(name) for name in PAGES), Route(STATIC + "{name}", static_file, methods=["GET", "HEAD"])]

"""``/console/outbox``: the local mailer's outbox, for the developer at this machine.

Mails hold one-time codes (a reset code takes over an account), so both the page and its JSON
answer only loopback clients (uvicorn runs with proxy headers off, so the peer is real), and
only the local runtime mounts them: production has no outbox and no such route.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from infra.localrun.console_pages import page_response
from studio.kernel import errors
from studio.kernel.problems import PROBLEM_JSON, problem_body

PAGE = Path(__file__).parent / "console" / "outbox.html"


def _from_this_machine(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(request: Request) -> Response:
    err = errors.StudioError(errors.FORBIDDEN, "the outbox is readable from this machine only")
    return JSONResponse(problem_body(err, instance=request.url.path, request_id=""), status_code=403,
                        media_type=PROBLEM_JSON)


def outbox_routes(deps: Any) -> list[Route]:
    async def page(request: Request) -> Response:
        return page_response(PAGE) if _from_this_machine(request) else _refuse(request)

    async def mails(request: Request) -> Response:
        if not _from_this_machine(request):
            return _refuse(request)
        recent = getattr(deps.mailer, "recent", None)  # only the local outbox mailer keeps mail
        to = request.query_params.get("to") or None
        return JSONResponse({"mails": recent(to=to) if recent is not None else []})

    return [Route("/console/outbox", page), Route("/console/outbox.json", mails)]

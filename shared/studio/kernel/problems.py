"""RFC 9457 problem+json: the one error shape every route answers with."""
from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from studio.kernel import errors

PROBLEM_TYPE_BASE = "https://errors.studio.dev/"
PROBLEM_JSON = "application/problem+json"
REALM = "studio"


def problem_body(err: errors.StudioError, *, instance: str, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + err.code.code.lower().replace("_", "-"),
        "title": err.code.title,
        "status": err.status,
        "detail": err.detail,
        "instance": instance,
        "code": err.code.code,
        "request_id": request_id,
    }
    if err.errors:
        body["errors"] = err.errors
    body.update(err.extra)
    return body


def problem_response(err: errors.StudioError, *, instance: str, request_id: str) -> Response:
    body = problem_body(err, instance=instance, request_id=request_id)
    resp = Response(json.dumps(body), status=err.status, content_type=PROBLEM_JSON)
    for name, value in problem_headers(err).items():
        resp.headers[name] = value
    return resp


def problem_headers(err: errors.StudioError) -> dict[str, str]:
    """The headers a problem answers with (every edge uses this, the realtime gateway too).

    RFC 9110 11.6.1: a 401 MUST carry a challenge, so it is added here for every 401 rather than
    at each raise. A token that was sent but refused says so (RFC 6750 3.1); other 401s (no token,
    a wrong password, a bad refresh token or ticket) name the scheme that would succeed."""
    headers = dict(err.headers)
    if err.status == 401 and "WWW-Authenticate" not in headers:
        error = ', error="invalid_token"' if err.code is errors.TOKEN_INVALID else ""
        headers["WWW-Authenticate"] = f'Bearer realm="{REALM}"{error}'
    return headers


def from_validation_error(exc: Any, *, location: str) -> errors.StudioError:
    """pydantic ValidationError -> 400 with one entry per field problem."""
    items = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = ".".join(str(p) for p in e.get("loc", ()))
        items.append({"field": f"{location}.{loc}" if loc else location, "message": e.get("msg", "invalid")})
    return errors.StudioError(errors.VALIDATION_FAILED, f"{len(items)} invalid field(s) in {location}", errors=items)

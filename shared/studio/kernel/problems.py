"""RFC 9457 problem+json: the one error shape every route answers with."""
from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from studio.kernel import errors

PROBLEM_TYPE_BASE = "https://errors.studio.dev/"
PROBLEM_JSON = "application/problem+json"


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
    for name, value in err.headers.items():
        resp.headers[name] = value
    return resp


def from_validation_error(exc: Any, *, location: str) -> errors.StudioError:
    """pydantic ValidationError -> 400 with one entry per field problem."""
    items = []
    for e in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = ".".join(str(p) for p in e.get("loc", ()))
        items.append({"field": f"{location}.{loc}" if loc else location, "message": e.get("msg", "invalid")})
    return errors.StudioError(errors.VALIDATION_FAILED, f"{len(items)} invalid field(s) in {location}", errors=items)

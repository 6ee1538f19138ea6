"""The pipeline's precondition stage (RFC 9110 section 13), before and after the handler.

Before: a revisioned route's If-Match / base_rev is checked against the resource's current
revision (``kernel.revisions.enforce``); a GET or HEAD's If-None-Match is parsed. A conditional
header where it is not evaluated is refused rather than silently ignored: a client that sent
If-Match on a route that does not check it would otherwise believe its write was conditional.

After: a GET or HEAD (or a POST its route declares a query) whose 200 response matches If-None-Match (weak comparison, or ``*``)
becomes 304 Not Modified: the same validators and caching headers, no body.
"""
from __future__ import annotations

from werkzeug.wrappers import Response

from studio.kernel import entity_tags, errors
from studio.kernel.call import Call
from studio.kernel.revisions import enforce, field_value

_SAFE = ("GET", "HEAD")
# Headers a 304 must not carry: they describe the body it does not have (RFC 9110 15.4.5).
_BODY_HEADERS = ("Content-Type", "Content-Length", "Content-Encoding", "Content-Range")


def check(call: Call) -> None:
    """Run before the handler; sets ``call.precondition`` and ``call.if_none_match``."""
    if_none_match = entity_tags.parse("If-None-Match", field_value(call, "If-None-Match"))
    if if_none_match is not None and not _reads(call):
        raise _not_evaluated("If-None-Match", "only GET, HEAD and query POSTs evaluate it")
    call.if_none_match = if_none_match
    if call.route.revisioned:  # last: the only step that reads the store
        call.precondition = enforce(call)
    elif entity_tags.parse("If-Match", field_value(call, "If-Match")) is not None:  # malformed: says so
        raise _not_evaluated("If-Match", "only revisioned writes (PATCH, PUT, DELETE of a resource) evaluate it")


def not_modified(call: Call, response: Response) -> Response:
    """Run after the handler: the 304 for a GET or HEAD whose representation the client has."""
    tags = call.if_none_match
    if tags is None or not _reads(call) or response.status_code != 200:
        return response
    current = _response_tag(response)
    if not tags.weak_match(current, exists=True):
        return response
    headers = [(k, v) for k, v in response.headers.items() if k not in _BODY_HEADERS]
    unchanged = Response(status=304, headers=headers)
    del unchanged.headers["Content-Type"]  # werkzeug adds a default one; a 304 has no body to type
    return unchanged


def _reads(call: Call) -> bool:
    """GET and HEAD; and a POST its route declares a query (``conditional_read``), e.g. OFREP's bulk evaluation."""
    return call.request.method in _SAFE or (call.request.method == "POST" and call.route.conditional_read)


def _response_tag(response: Response) -> entity_tags.EntityTag | None:
    value = response.headers.get("ETag")
    if value is None:
        return None
    parsed = entity_tags.parse("ETag", value)
    return parsed.tags[0] if parsed is not None and parsed.tags else None


def _not_evaluated(header: str, why: str) -> errors.StudioError:
    return errors.StudioError(errors.INVALID_PRECONDITION, f"{header} is not evaluated on this route: {why}")

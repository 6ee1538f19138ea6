"""A message a client sends on a stream (SSE ``POST`` or a WebSocket ``send`` frame) goes
through the very HTTP route a REST client posts to (``ThreadChannel.send_path``), run by the
kernel's pipeline in this process. So it gets the same validation (the route's pydantic
model), idempotency (the frame's ``client_id`` is the ``Idempotency-Key``, in the same scope,
replayed the same way), rate limit (the same limiter and key), request id and access log
line as ``POST /chat/threads/{id}/messages``: one code path, not a copy of it.

Only the credentials differ on a socket: the caller verified at the handshake travels as a
principal the process verified itself (``kernel.access.VERIFIED_PRINCIPAL``), and the kernel
checks its session and membership again for each send, as it does for a bearer token.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from studio.kernel import access, errors, logs
from studio.kernel.context import Principal
from studio.kernel.problems import problem_body
from studio.realtime.gateway_state import Dispatch

_FRAME_ONLY = ("type", "request_id")  # frame fields that are not part of the route's body
# A stream's request headers the route sees (credentials, tenant, tracing, idempotency, body type).
FORWARDED = ("authorization", "x-tenant-id", "x-env", "user-agent", "x-cloud-trace-context", "x-forwarded-for",
             "idempotency-key", "content-type")


@dataclass(frozen=True)
class Sent:
    """The route's answer to one send."""

    status: int
    body: Any  # the created message, or the problem
    raw: bytes  # as the route answered it
    request_id: str
    replayed: bool
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def run_send(dispatch: Dispatch | None, path: str, body: bytes, headers: Mapping[str, str], *,
             verified: Principal | None = None, remote_addr: str = "") -> Sent:
    """POST ``body`` to the kernel route at ``path``. Blocking (the pipeline reads and writes the
    store): call it off the event loop."""
    if dispatch is None:
        raise errors.StudioError(errors.METHOD_NOT_ALLOWED, "this gateway takes no sends")
    from werkzeug.test import EnvironBuilder  # only the gateway builds requests in-process

    builder = EnvironBuilder(path=path, method="POST", headers=list(headers.items()), data=body,
                             environ_base={"REMOTE_ADDR": remote_addr or "-"})
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    if verified is not None:
        environ[access.VERIFIED_PRINCIPAL] = verified
    response: Response = dispatch(Request(environ))
    raw = response.get_data()
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:  # the kernel answers JSON; anything else is passed on as text
        payload = raw.decode(errors="replace")
    return Sent(response.status_code, payload, raw, response.headers.get("X-Request-Id", ""),
                response.headers.get("Idempotent-Replayed") == "true", dict(response.headers.items()))


def send_frame(dispatch: Dispatch | None, path: str, frame: dict[str, Any], *, tenant_id: str, env: str,
               principal: Principal, user_agent: str, remote_addr: str) -> Sent:
    """A WebSocket ``send`` frame ``{type, text, client_id?, request_id?}`` as a POST of
    ``{text, client_id}``. Its ``client_id`` is the Idempotency-Key; its ``request_id`` (if sane)
    the request's id."""
    body = {k: v for k, v in frame.items() if k not in _FRAME_ONLY}
    raw_id = frame.get("request_id")
    headers = {"Content-Type": "application/json", "X-Tenant-Id": tenant_id, "X-Env": env,
               "X-Request-Id": logs.new_request_id(raw_id if isinstance(raw_id, str) else None),
               "User-Agent": user_agent}
    client_id = body.get("client_id")
    if isinstance(client_id, str) and client_id:
        headers["Idempotency-Key"] = client_id
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return run_send(dispatch, path, data, headers, verified=principal, remote_addr=remote_addr)


def refused(err: errors.StudioError, path: str, request_id: str) -> Sent:
    """What the gateway itself refuses before the route runs (a frame that is not JSON)."""
    body = problem_body(err, instance=path, request_id=request_id)
    return Sent(err.status, body, json.dumps(body).encode(), request_id, False, dict(err.headers))


def reply_frame(sent: Sent, thread_id: str, epoch: int) -> dict[str, Any]:
    """The socket's answer: ``ack`` with the message, or ``error`` with the problem (its ``code``)."""
    if sent.ok and isinstance(sent.body, dict):
        return {"type": "ack", "thread_id": thread_id, "seq": sent.body.get("seq"), "epoch": sent.body.get("epoch"),
                "data": sent.body, "request_id": sent.request_id, "replayed": sent.replayed}
    return error_frame(sent.body if isinstance(sent.body, dict) else {"status": sent.status, "detail": sent.body},
                       thread_id, epoch, sent.request_id)


def error_frame(problem: dict[str, Any], thread_id: str, epoch: int | None, request_id: str) -> dict[str, Any]:
    return {"type": "error", "thread_id": thread_id, "seq": None, "epoch": epoch, "data": problem,
            "request_id": request_id}

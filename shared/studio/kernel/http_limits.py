"""How long and how much a client may take to send a request, before any app code runs.

Read by the ASGI servers we run ourselves (the local runtime, the realtime gateway container):
``kernel.http_server`` enforces the request head's limits in the connection, and
``kernel.asgi_body`` the body's before a worker thread is taken. See docs/decisions/0026.
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from studio.kernel import errors, logs
from studio.kernel.http_app import MAX_BODY_BYTES
from studio.kernel.problems import PROBLEM_JSON, problem_body


@dataclass(frozen=True)
class HttpLimits:
    head_timeout_s: float = 10.0  # request line + headers, from the first byte (or the connection) to the blank line
    max_head_bytes: int = 32 * 1024  # request line + headers; more is a 431
    body_timeout_s: float = 10.0  # the whole body, plus body_min_rate's allowance
    body_min_rate_bps: int = 64 * 1024  # each byte received extends the body's deadline by 1/rate s
    max_body_bytes: int = MAX_BODY_BYTES
    keep_alive_s: int = 5  # an idle connection between requests is closed after this

    def __post_init__(self) -> None:
        if min(self.head_timeout_s, self.body_timeout_s) <= 0 or self.keep_alive_s < 1:
            raise ValueError("HTTP timeouts must be positive")
        if min(self.max_head_bytes, self.body_min_rate_bps, self.max_body_bytes) < 1:
            raise ValueError("HTTP size limits must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpLimits:
        env = os.environ if env is None else env
        d = cls()
        return cls(
            head_timeout_s=float(env.get("STUDIO_HTTP_HEAD_TIMEOUT_S", d.head_timeout_s)),
            max_head_bytes=int(env.get("STUDIO_HTTP_MAX_HEAD_BYTES", d.max_head_bytes)),
            body_timeout_s=float(env.get("STUDIO_HTTP_BODY_TIMEOUT_S", d.body_timeout_s)),
            body_min_rate_bps=int(env.get("STUDIO_HTTP_BODY_MIN_RATE_BPS", d.body_min_rate_bps)),
            keep_alive_s=int(env.get("STUDIO_HTTP_KEEP_ALIVE_S", d.keep_alive_s)),
        )


def refusal(code: errors.ErrorCode, detail: str, *, path: str, request_id: str | None = None,
            ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """(status, headers, body) of a problem+json that also closes the connection: the rest of
    the request is never read, so the connection cannot carry another one."""
    rid = logs.new_request_id(request_id)
    err = errors.StudioError(code, detail)
    body = json.dumps(problem_body(err, instance=path, request_id=rid)).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
               (b"x-request-id", rid.encode()), (b"connection", b"close")]
    return err.status, headers, body

"""One exception root for the library and the registry of stable error codes.

Errors are raised as ``StudioError`` subclasses anywhere; they become RFC 9457
problem+json only at the HTTP edge (``kernel.problems``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    title: str


# One registry: a code is registered once, with one meaning. The kernel registers its own codes below
# (auth, tenancy, validation, JSON, revisions, idempotency, commands, rate limit); each domain registers
# its own in studio/<domain>/errors.py, which studio.domains lists. OpenAPI (x-error-codes) and
# docs/errors.md publish what studio.domains gathers.
_CODES: dict[str, ErrorCode] = {}


def register(code: str, status: int, title: str) -> ErrorCode:
    existing = _CODES.get(code)
    if existing is not None and (existing.status, existing.title) != (status, title):
        raise ValueError(f"error code {code} registered twice with different meaning")
    entry = ErrorCode(code, status, title)
    _CODES[code] = entry
    return entry


def registry() -> dict[str, ErrorCode]:
    return dict(_CODES)


BAD_REQUEST = register("BAD_REQUEST", 400, "Bad request")
VALIDATION_FAILED = register("VALIDATION_FAILED", 400, "Request validation failed")
INVALID_JSON = register("INVALID_JSON", 400, "Body is not valid JSON")
JSON_TOO_DEEP = register("JSON_TOO_DEEP", 400, "JSON nests too deeply")
TENANT_REQUIRED = register("TENANT_REQUIRED", 400, "X-Tenant-Id and X-Env headers are required")
TENANT_MISMATCH = register("TENANT_MISMATCH", 400, "Tenant or env in the request differs from the headers")
UNAUTHENTICATED = register("UNAUTHENTICATED", 401, "Authentication required")
TOKEN_INVALID = register("TOKEN_INVALID", 401, "Token is invalid or expired")
FORBIDDEN = register("FORBIDDEN", 403, "Not allowed")
NOT_A_MEMBER = register("NOT_A_MEMBER", 403, "Caller is not a member of this tenant")
ROLE_INSUFFICIENT = register("ROLE_INSUFFICIENT", 403, "Caller's role is too low for this operation")
NOT_FOUND = register("NOT_FOUND", 404, "Resource not found")
ROUTE_NOT_FOUND = register("ROUTE_NOT_FOUND", 404, "No such route")
METHOD_NOT_ALLOWED = register("METHOD_NOT_ALLOWED", 405, "Method not allowed on this route")
ALREADY_EXISTS = register("ALREADY_EXISTS", 409, "Resource already exists")
REVISION_CONFLICT = register("REVISION_CONFLICT", 409, "Resource changed since the given revision")
IDEMPOTENCY_KEY_IN_USE = register("IDEMPOTENCY_KEY_IN_USE", 409, "A request with this Idempotency-Key is in flight")
PRECONDITION_REQUIRED = register("PRECONDITION_REQUIRED", 428, "If-Match header or base_rev is required")
PAYLOAD_TOO_LARGE = register("PAYLOAD_TOO_LARGE", 413, "Request body is too large")
UNSUPPORTED_MEDIA_TYPE = register("UNSUPPORTED_MEDIA_TYPE", 415, "Content-Type must be application/json")
BODY_NOT_EXPECTED = register("BODY_NOT_EXPECTED", 400, "This route takes no request body (send none, or {})")
IDEMPOTENCY_KEY_REUSED = register("IDEMPOTENCY_KEY_REUSED", 422, "Idempotency-Key was used with another request")
UNKNOWN_COMMAND_TYPE = register("UNKNOWN_COMMAND_TYPE", 422, "Unknown command type")
RATE_LIMITED = register("RATE_LIMITED", 429, "Too many requests")
UNAVAILABLE = register("UNAVAILABLE", 503, "Service temporarily unavailable")
INTERNAL = register("INTERNAL", 500, "Internal error")

# -- Conditional requests (RFC 9110 section 13): revisions and caching. Owned by the kernel's
# precondition stage (kernel/preconditions.py); PRECONDITION_REQUIRED and REVISION_CONFLICT above.
INVALID_PRECONDITION = register("INVALID_PRECONDITION", 400,
                                "If-Match or If-None-Match is malformed or not evaluated on this route")
# -- Browser access (CORS, kernel/cors.py) --------------------------------------------------------
CORS_PREFLIGHT_REFUSED = register("CORS_PREFLIGHT_REFUSED", 403, "Cross-origin request refused for this origin or method")
# -- Site keys: public keys instead of a token (Access.SITE_KEY, kernel/site_keys.py) ------------
SITE_KEY_INVALID = register("SITE_KEY_INVALID", 401, "The site key is missing, unknown or revoked")
SITE_KEY_SCOPE = register("SITE_KEY_SCOPE", 403, "This site key was issued for another purpose")
ORIGIN_NOT_ALLOWED = register("ORIGIN_NOT_ALLOWED", 403, "This origin is not on the key's allow-list")
# -- Slow and oversized clients (the servers' edge limits: kernel.http_limits) --------------------
REQUEST_TIMEOUT = register("REQUEST_TIMEOUT", 408, "The request was not received in time")
HEADERS_TOO_LARGE = register("HEADERS_TOO_LARGE", 431, "Request line and headers are too large")


class StudioError(Exception):
    """Root of every error the library raises on purpose."""

    def __init__(
        self,
        code: ErrorCode,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or code.title)
        self.code = code
        self.detail = detail or code.title
        self.errors = errors or []
        self.status = status or code.status
        self.headers = headers or {}
        self.extra = extra


class NotFound(StudioError):
    def __init__(self, detail: str = "Resource not found") -> None:
        super().__init__(NOT_FOUND, detail)


class AlreadyExists(StudioError):
    def __init__(self, detail: str = "Resource already exists") -> None:
        super().__init__(ALREADY_EXISTS, detail)


class RevisionConflict(StudioError):
    """Stale revision. 409 for ``base_rev``; the HTTP layer uses 412 for If-Match."""

    def __init__(self, current_rev: int, *, status: int = 409) -> None:
        super().__init__(
            REVISION_CONFLICT,
            f"resource is at rev {current_rev}",
            status=status,
            current_rev=current_rev,
        )
        self.current_rev = current_rev


class Unavailable(StudioError):
    def __init__(self, detail: str = "Service temporarily unavailable") -> None:
        super().__init__(UNAVAILABLE, detail)

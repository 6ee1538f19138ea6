"""Cross-origin access for browser frontends (CORS), decided once for every function and the
realtime gateway (decision 0018).

Allowed origins come from configuration (``STUDIO_CORS_ORIGINS``): exact origins, ``:*`` for
any port and ``*.`` for any subdomain, e.g. ``https://app.example.com``, ``http://localhost:*``,
``https://*.example.com``; a lone ``*`` allows every origin. The API authenticates with bearer
tokens and tickets, never cookies, so credentials are never allowed (no
``Access-Control-Allow-Credentials``): a page can only call it with a token it was given.

A preflight (OPTIONS with ``Access-Control-Request-Method``) is answered before routing: 204
for an allowed origin, 403 problem+json for any other. Any other response gets ``Vary: Origin``,
and the CORS headers only when the origin is allowed.

Pure Python, no framework: HttpApp applies it to every function, ``asgi_edge`` to the realtime
gateway and the local runtime's own routes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from studio.kernel import errors

# The browser may send these methods and headers cross-origin; it may read these response headers.
ALLOW_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOW_HEADERS = ("Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key",
                 "X-Tenant-Id", "X-Env", "X-Request-Id", "Last-Event-ID")
EXPOSE_HEADERS = ("ETag", "X-Request-Id", "Retry-After", "Idempotent-Replayed", "Location",
                  "WWW-Authenticate", "Allow")
MAX_AGE_S = 600  # a changed policy reaches every browser within 10 minutes
LOOPBACK_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*")

# scheme://host[:port], host a DNS name (optionally "*." first) or a bracketed IPv6 address.
_PATTERN = re.compile(r"^(https?)://(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(?::(\*|[0-9]{1,5}))?$")
_DEFAULT_PORT = {"http": "80", "https": "443"}


def _compile(pattern: str) -> str:
    m = _PATTERN.match(pattern.strip().lower().rstrip("/"))
    if m is None:
        raise ValueError(f"STUDIO_CORS_ORIGINS: {pattern!r} is not an origin pattern "
                         "(scheme://host[:port], with optional '*.' subdomains or ':*' port)")
    scheme, any_sub, host, port = m.groups()
    regex = re.escape(scheme) + "://" + (r"(?:[a-z0-9-]+\.)+" if any_sub else "") + re.escape(host)
    if port == "*":
        return regex + r"(?::[0-9]{1,5})?"
    if port is None or port == _DEFAULT_PORT[scheme]:  # browsers omit the scheme's default port
        return regex
    return regex + ":" + port


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins may read the API's answers. Build with ``policy()``."""

    patterns: tuple[str, ...]
    _match: re.Pattern[str] | None  # None: no origin is allowed
    _any: bool = False

    def allows(self, origin: str | None) -> bool:
        if not origin or origin == "null":  # opaque origins (file:, sandboxed frames) never
            return False
        if self._any:
            return True
        return self._match is not None and self._match.fullmatch(origin) is not None


@lru_cache(maxsize=8)
def policy(patterns: tuple[str, ...]) -> CorsPolicy:
    """The policy for these patterns (cached: every request asks). Raises ValueError for a bad one."""
    cleaned = tuple(p.strip() for p in patterns if p.strip())
    if "*" in cleaned:
        return CorsPolicy(cleaned, None, _any=True)
    regexes = [_compile(p) for p in cleaned]
    return CorsPolicy(cleaned, re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None)


def parse_origins(raw: str) -> tuple[str, ...]:
    """``STUDIO_CORS_ORIGINS``: patterns separated by commas or whitespace, each checked now."""
    patterns = tuple(p for p in re.split(r"[,\s]+", raw) if p)
    policy(patterns)
    return patterns


def is_preflight(method: str, origin: str | None, requested_method: str | None) -> bool:
    """OPTIONS with Origin and Access-Control-Request-Method (a plain OPTIONS is routed as usual)."""
    return method == "OPTIONS" and bool(origin) and bool(requested_method)


def preflight(cors: CorsPolicy, origin: str | None, requested_method: str | None) -> dict[str, str]:
    """The headers of a 204 answer to a preflight, or StudioError(CORS_PREFLIGHT_REFUSED).

    The methods are the API's whole set, not the route's: the real request then meets the
    route's own answer (404, 405 with Allow) and the page can read it."""
    method = (requested_method or "").strip().upper()
    if not origin or not cors.allows(origin):
        raise errors.StudioError(errors.CORS_PREFLIGHT_REFUSED, "this origin may not call the API",
                                 headers={"Vary": "Origin"})
    if method not in ALLOW_METHODS:
        raise errors.StudioError(errors.CORS_PREFLIGHT_REFUSED, f"allowed methods are {', '.join(ALLOW_METHODS)}",
                                 headers={"Vary": "Origin"})
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join(ALLOW_METHODS),
        "Access-Control-Allow-Headers": ", ".join(ALLOW_HEADERS),
        "Access-Control-Max-Age": str(MAX_AGE_S),
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    }


def response_headers(cors: CorsPolicy, origin: str | None) -> dict[str, str]:
    """What an actual (non-preflight) response adds: the CORS headers only for an allowed origin.
    ``Vary: Origin`` always, so a shared cache never hands one origin's answer to another."""
    if not cors.allows(origin):
        return {"Vary": "Origin"}
    assert origin is not None
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": ", ".join(EXPOSE_HEADERS),
            "Vary": "Origin"}


def merge_vary(existing: str | None, added: str) -> str:
    names = [v.strip() for v in (existing or "").split(",") if v.strip()]
    lower = {n.lower() for n in names}
    names += [a.strip() for a in added.split(",") if a.strip().lower() not in lower]
    return ", ".join(names)


class ResponseHeaders(Protocol):
    """What ``add_response_headers`` needs of a response's headers (werkzeug's Headers)."""

    def __contains__(self, key: str, /) -> bool: ...

    def __setitem__(self, key: str, value: str) -> None: ...

    def get(self, key: str) -> str | None: ...


def add_response_headers(cors: CorsPolicy, origin: str | None, headers: ResponseHeaders) -> None:
    """Stamp a (werkzeug) response's headers; a response that already carries CORS keeps it."""
    if "Access-Control-Allow-Origin" in headers:
        return
    for name, value in response_headers(cors, origin).items():
        headers[name] = merge_vary(headers.get("Vary"), value) if name == "Vary" else value


def stamp_asgi(cors: CorsPolicy, origin: str | None, raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``add_response_headers`` for an ASGI ``http.response.start``'s header list."""
    if any(k.lower() == b"access-control-allow-origin" for k, _ in raw):
        return raw
    vary = next((v.decode("latin-1") for k, v in raw if k.lower() == b"vary"), None)
    out = [(k, v) for k, v in raw if k.lower() != b"vary"]
    for name, value in response_headers(cors, origin).items():
        value = merge_vary(vary, value) if name == "Vary" else value
        out.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return out

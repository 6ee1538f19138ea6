"""Site keys: the public keys a web page, a ``<link>`` or an SDK carries instead of a token (``Access.SITE_KEY``).

One concept for what used to be three (analytics write keys, OFREP SDK keys, font site keys;
docs/decisions/0095). A key is issued for one purpose, its scope (``analytics.ingest``,
``experiments.evaluate``, ``fonts.css``), in one tenant env. It is stored only as its SHA-256, under
``site_keys/<digest>``: looking a key up is hashing it, so no comparison of secrets happens at all
(nothing to time), and a leaked store does not leak keys. Revoking marks the record, so a revoked key
is refused as such; an instance may honour a key it resolved ``CACHE_S`` more seconds.

A route declares where its clients put the key (``SiteKeyRule.place``: a beacon's query string, an
OFREP provider's bearer header, a ``<link>``'s path) and the scope it admits. The kernel resolves it,
binds the request to the key's tenant env (a tenant named by the request must be that one), checks the
scope, the route's origin allow-list hook and its per-key rate limit hook, and hands the handler the
grant (``Call.site_key``).
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from studio.kernel import cors, errors
from studio.kernel.clock import utc_now
from studio.kernel.context import normalise_env
from studio.kernel.ratelimit import RateLimiter
from studio.ports.store import DocumentStore, Transaction

if TYPE_CHECKING:
    from werkzeug.wrappers import Request

COLLECTION = "site_keys"
CACHE_S = 5.0  # a revoked key stops working within this long on every instance
_SHAPE = re.compile(r"^[a-z]{1,8}_[A-Za-z0-9_-]{16,80}$")  # prefix_ + url-safe secret


class KeyPlace(StrEnum):
    QUERY = "query"  # ?key= : navigator.sendBeacon and fetch from a page
    BEARER = "bearer"  # Authorization: Bearer <key> (or X-API-Key): OpenFeature OFREP providers
    PATH = "path"  # /fonts/{site_key}/css2 : a <link> can put it nowhere else


@dataclass(frozen=True)
class SiteKeyGrant:
    """What a key resolves to: its scope, tenant env and id, and what its domain stored with it."""

    scope: str
    tenant_id: str
    env: str
    key_id: str
    subject: dict[str, Any] = field(default_factory=dict)  # e.g. {"site_id": ...} for analytics


@dataclass(frozen=True)
class OriginRule:
    """The browser origins a key's requests may come from (kernel/cors.py grammar)."""

    patterns: tuple[str, ...]
    allow_no_origin: bool = False  # server-side senders (no Origin header) too


# Hooks a route's rule may name: (deps, grant) -> the key's origin rule / its per-minute limit.
OriginsHook = Callable[[Any, SiteKeyGrant], OriginRule]
RateHook = Callable[[Any, SiteKeyGrant], int]


@dataclass(frozen=True)
class SiteKeyRule:
    """A SITE_KEY route's declaration: the scope it admits and where its clients send the key."""

    scope: str
    place: KeyPlace
    name: str = "key"  # the query or path parameter that carries it
    body_field: str | None = None  # a body field that may carry it instead (a sendBeacon batch)
    invalid: errors.ErrorCode = errors.SITE_KEY_INVALID  # a domain's published code for a bad key
    challenge: str | None = None  # WWW-Authenticate on 401 (a bearer route: 'Bearer realm="..."')
    origins: OriginsHook | None = None
    rate_per_minute: RateHook | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def record_path(secret_digest: str) -> str:
    return f"{COLLECTION}/{secret_digest}"


# -- issuing and revoking (inside the domain's own transaction) ---------------------------------


def issue(tx: Transaction, secret: str, grant: SiteKeyGrant) -> None:
    """Store the key's record (its digest only) in the transaction that lists it in its domain."""
    tx.create(record_path(digest(secret)), {
        "scope": grant.scope, "tenant_id": grant.tenant_id, "env": grant.env, "key_id": grant.key_id,
        "subject": dict(grant.subject), "revoked": False, "created_at": utc_now()})


def revoke(tx: Transaction, secret_digest: str) -> None:
    """Mark the key revoked (kept, so it is refused as revoked rather than unknown)."""
    doc = tx.get(record_path(secret_digest))
    if doc is not None and not doc.data.get("revoked"):
        tx.put(doc.path, {**doc.data, "revoked": True, "revoked_at": utc_now()})
    _RESOLVED.forget(secret_digest)


# -- resolving -----------------------------------------------------------------------------------


class _Resolved:
    """Per-instance cache of key records (the ingest path must not read the store per event)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, Any] | None]] = {}

    def get(self, store: DocumentStore, secret_digest: str) -> dict[str, Any] | None:
        now = time.monotonic()
        hit = self._entries.get(secret_digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        doc = store.get(record_path(secret_digest))
        data = None if doc is None else dict(doc.data)
        with self._lock:
            if len(self._entries) > 10_000:  # unknown keys must not grow the cache without bound
                self._entries.clear()
            self._entries[secret_digest] = (now + CACHE_S, data)
        return data

    def forget(self, secret_digest: str) -> None:
        with self._lock:
            self._entries.pop(secret_digest, None)


_RESOLVED = _Resolved()


def forget(secret_digest: str) -> None:
    """Drop this instance's cached record of a key (a revoking domain calls it once its commit is in)."""
    _RESOLVED.forget(secret_digest)


def presented(request: Request, params: Mapping[str, str], rule: SiteKeyRule) -> str | None:
    """The key where the route says its clients put it (read before the body is validated: a request
    without a valid key learns nothing about the route's schema)."""
    if rule.place is KeyPlace.PATH:
        return params.get(rule.name)
    if rule.place is KeyPlace.BEARER:
        api_key = request.headers.get("X-API-Key")
        if api_key:
            return api_key.strip()
        authorization = request.headers.get("Authorization") or ""
        return authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
    found: Any = request.args.get(rule.name)
    if not found and rule.body_field:
        found = _body_field(request, rule.body_field)
    return found if isinstance(found, str) else None


def _body_field(request: Request, name: str) -> Any:
    """One top-level field of a JSON body (a sendBeacon's text/plain one too), or None."""
    from studio.kernel.json_input import parse_json

    raw = request.get_data(cache=True)
    try:
        data = parse_json(raw) if raw.strip() else None
    except errors.StudioError:  # the body stage answers for a malformed body
        return None
    return data.get(name) if isinstance(data, dict) else None


def resolve(store: DocumentStore, secret: str | None, rule: SiteKeyRule) -> SiteKeyGrant:
    """The grant of a valid key of the rule's scope; the rule's invalid code (401) for a missing,
    malformed, unknown or revoked key; SITE_KEY_SCOPE (403) for a key issued for another purpose."""
    if not secret or not _SHAPE.match(secret):
        raise _invalid(rule, "send the key" if not secret else "not a key")
    data = _RESOLVED.get(store, digest(secret))
    if data is None:
        raise _invalid(rule, "unknown key")
    if data.get("revoked"):
        raise _invalid(rule, "this key was revoked")
    if data.get("scope") != rule.scope:
        raise errors.StudioError(errors.SITE_KEY_SCOPE, f"this key is not for {rule.scope}")
    return SiteKeyGrant(data["scope"], data["tenant_id"], data["env"], data["key_id"], dict(data.get("subject") or {}))


def _invalid(rule: SiteKeyRule, detail: str) -> errors.StudioError:
    headers = {"WWW-Authenticate": rule.challenge} if rule.challenge else {}
    return errors.StudioError(rule.invalid, detail, headers=headers)


def bind_tenant(grant: SiteKeyGrant, request: Request, params: Mapping[str, str]) -> None:
    """A request that names a tenant (X-Tenant-Id / X-Env, or a {tenant_id} path segment) names the key's."""
    named = request.headers.get("X-Tenant-Id") or params.get("tenant_id")
    if named is not None and named != grant.tenant_id:
        raise errors.StudioError(errors.TENANT_MISMATCH, "this key belongs to another tenant")
    env = request.headers.get("X-Env")
    if env is not None and normalise_env(env) != grant.env:
        raise errors.StudioError(errors.TENANT_MISMATCH, "this key belongs to another env")


def check_origin(rule: OriginRule, origin: str | None) -> None:
    if not origin:
        if rule.allow_no_origin:
            return
        raise errors.StudioError(errors.ORIGIN_NOT_ALLOWED, "this key accepts requests from its listed origins only")
    if not cors.policy(rule.patterns).allows(origin):
        raise errors.StudioError(errors.ORIGIN_NOT_ALLOWED, f"{origin[:200]} is not on this key's allow-list")


class _KeyLimits:
    """One token bucket per key, at the rate its rule's hook gives (it may change: a site edit)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[str, RateLimiter] = {}

    def check(self, key_id: str, per_minute: int) -> None:
        limiter = self._limiters.get(key_id)
        if limiter is None or round(limiter.rate * 60) != per_minute:
            limiter = RateLimiter(per_minute)
            with self._lock:
                if len(self._limiters) > 10_000:
                    self._limiters.clear()
                self._limiters[key_id] = limiter
        limiter.check(key_id)


_LIMITS = _KeyLimits()


def admit(deps: Any, request: Request, params: Mapping[str, str], rule: SiteKeyRule) -> SiteKeyGrant:
    """Everything a SITE_KEY route checks before its handler runs, in order."""
    grant = resolve(deps.store, presented(request, params, rule), rule)
    bind_tenant(grant, request, params)
    if rule.origins is not None:
        check_origin(rule.origins(deps, grant), request.headers.get("Origin"))
    if rule.rate_per_minute is not None:
        # a key id is unique within its tenant env only: the bucket is named by all three
        _LIMITS.check(f"{grant.tenant_id}/{grant.env}/{grant.key_id}", rule.rate_per_minute(deps, grant))
    return grant


def preflight_origins(deps: Any, request: Request, params: Mapping[str, str], rule: SiteKeyRule) -> tuple[str, ...] | None:
    """A CORS preflight's allowed origins: the key's (a preflight has no body and no Authorization), or
    None when the key names nothing (the platform's policy then answers)."""
    if rule.origins is None:
        return None
    try:
        return rule.origins(deps, resolve(deps.store, presented(request, params, rule), rule)).patterns
    except errors.StudioError:
        return None

"""Revocation checks for Firebase ID tokens: revoked sessions and disabled accounts.

A Firebase ID token stays cryptographically valid for its hour even after the user's sessions are
revoked (``revokeRefreshTokens`` sets the account's ``validSince``) or the account is disabled. Like
the Admin SDKs' ``checkRevoked``, this looks the account up with Identity Toolkit
(``POST /v1/projects/{project}/accounts:lookup``, ``{"localId": [uid]}``) and refuses a token whose
``auth_time`` is before ``validSince`` ("token revoked"), whose account is disabled ("account
disabled") or whose account no longer exists ("account not found"), all 401 TOKEN_INVALID.

Cache trade-off: the account's state (not a per-token verdict) is cached per uid for ``cache_s``
(60 s by default) on each instance. A revocation therefore takes effect within ``cache_s`` on every
warm instance, in exchange for at most one lookup per active user per ``cache_s`` per instance instead
of one per request (a network round trip of tens of milliseconds on the hot path, and Identity
Toolkit's per-project quota). A fresh sign-in after a revocation works at once, because its
``auth_time`` is compared with the cached ``validSince``. ``cache_s=0`` looks up on every request;
``forget(uid)`` drops an entry when this process itself revokes or disables an account.

Failures of the lookup (network, timeout, 5xx, quota, a refused credential) fail CLOSED with
``errors.Unavailable`` (503): the caller can retry, and a revoked session is never let through
because Google was unreachable.

Credentials: the caller passes ``credentials_provider`` (a callable returning an OAuth access token).
In production that is ``studio.adapters.google_credentials.access_token_provider()`` (google-auth
application default credentials, imported lazily), passed in by the bootstrap so this module stays
plain HTTP and testable against the Auth emulator. The Auth emulator accepts the literal token
``owner`` as an admin: ``IdentityToolkitRevocation.for_emulator`` sets that up.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.adapters.identity_toolkit import PRODUCTION_ENDPOINT, IdentityToolkit
from studio.kernel import errors


@dataclass(frozen=True)
class _Account:
    exists: bool
    disabled: bool
    valid_since: int  # seconds since the epoch; tokens authenticated before it are revoked
    expires: float  # monotonic deadline of this cache entry


class IdentityToolkitRevocation:
    def __init__(self, project: str, *, endpoint: str = PRODUCTION_ENDPOINT,
                 credentials_provider: Callable[[], str] | None = None, cache_s: float = 60,
                 timeout_s: float = 5, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._toolkit = IdentityToolkit(project, endpoint=endpoint, credentials_provider=credentials_provider,
                                        timeout_s=timeout_s, failure="account lookup")
        self.project = project
        self._cache_s = cache_s
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, _Account] = OrderedDict()

    @classmethod
    def for_emulator(cls, project: str, host: str, **kwargs: Any) -> IdentityToolkitRevocation:
        """``host`` as in FIREBASE_AUTH_EMULATOR_HOST (``127.0.0.1:9099``)."""
        return cls(project, endpoint=IdentityToolkit.emulator_endpoint(host),
                   credentials_provider=lambda: "owner", **kwargs)

    # -- RevocationChecker ---------------------------------------------------------------------

    def check(self, uid: str, auth_time: int) -> None:
        account = self._account(uid)
        if not account.exists:
            raise errors.StudioError(errors.TOKEN_INVALID, "account not found")
        if account.disabled:
            raise errors.StudioError(errors.TOKEN_INVALID, "account disabled")
        # Strictly before: an account's validSince starts at its sign-up second, equal to the
        # auth_time of the token minted by that sign-up.
        if auth_time < account.valid_since:
            raise errors.StudioError(errors.TOKEN_INVALID, "token revoked")

    def forget(self, uid: str) -> None:
        with self._lock:
            self._cache.pop(uid, None)

    # -- plumbing ------------------------------------------------------------------------------

    def _account(self, uid: str) -> _Account:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(uid)
            if cached is not None and cached.expires > now:
                self._cache.move_to_end(uid)
                return cached
        # Looked up outside the lock: one slow lookup must not stall every other user's request.
        # (Concurrent misses for the same uid may both look up; the later result wins, harmlessly.)
        account = self._lookup(uid, now + self._cache_s)
        if self._cache_s > 0:
            with self._lock:
                self._cache[uid] = account
                self._cache.move_to_end(uid)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return account

    def _lookup(self, uid: str, expires: float) -> _Account:
        user = self._toolkit.lookup(uid)
        if user is None:
            return _Account(exists=False, disabled=False, valid_since=0, expires=expires)
        try:
            valid_since = int(user.get("validSince") or 0)  # int64 seconds, a JSON string
        except (TypeError, ValueError):
            raise errors.Unavailable("account lookup returned a malformed validSince") from None
        return _Account(exists=True, disabled=user.get("disabled") is True, valid_since=valid_since,
                        expires=expires)

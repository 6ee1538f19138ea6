"""Firebase Auth / Identity Platform ID tokens, for production (STUDIO_AUTH=firebase): the adapter
behind the kernel's ``TokenVerifier`` port (``studio.kernel.context``), chosen by the bootstrap.

RS256 tokens checked against Google's published x509 certificates, which are cached
for as long as their Cache-Control allows. Rules from Firebase's "verify ID tokens
using a third-party JWT library": aud = project, iss = securetoken URL, sub non-empty,
auth_time in the past.

Optional, both off by default so existing callers keep their behaviour:
- ``revocation``: a RevocationChecker (firebase_revocation.IdentityToolkitRevocation) asked after the
  token checks out, so revoked sessions and disabled accounts stop working before the token expires.
- ``emulator``: the Firebase Auth emulator mints UNSIGNED tokens (``alg: none``). Accepting those is a
  forged-token hole anywhere else, so the mode is refused unless FIREBASE_AUTH_EMULATOR_HOST is set,
  and without it an unsigned token fails the RS256 header check like any other.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.request
from typing import Any, Protocol

import jwt

from studio.kernel import errors, logs
from studio.kernel.context import Principal
from studio.kernel.token_errors import token_refusal

_MAX_AGE = re.compile(r"max-age=(\d+)")
_log = logs.get("studio.identity.firebase")
EMULATOR_ENV = "FIREBASE_AUTH_EMULATOR_HOST"
_REQUIRED = ["exp", "iat", "sub", "aud", "iss", "auth_time"]


class RevocationChecker(Protocol):
    def check(self, uid: str, auth_time: int) -> None:
        """Raise StudioError (TOKEN_INVALID, or 503 when it cannot tell) if the session is over."""
        ...


class FirebaseTokenVerifier:
    def __init__(self, project_id: str, *, certs_url: str, timeout_s: float = 5.0, leeway_s: int = 30,
                 revocation: RevocationChecker | None = None, emulator: bool = False) -> None:
        if not project_id:
            raise ValueError("FIREBASE_PROJECT_ID is required for firebase auth")
        if emulator and not os.environ.get(EMULATOR_ENV):
            raise ValueError(f"emulator mode accepts unsigned tokens: it needs {EMULATOR_ENV} to be set")
        self.emulator = emulator
        self._revocation = revocation
        self.project_id = project_id
        self._certs_url = certs_url
        self._timeout_s = timeout_s
        self._leeway_s = leeway_s
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._expires = 0.0
        self._last_fetch = -1e9

    def _fetch(self) -> None:
        from cryptography.x509 import load_pem_x509_certificate

        try:
            with urllib.request.urlopen(self._certs_url, timeout=self._timeout_s) as resp:  # noqa: S310
                certs = json.loads(resp.read())
                max_age = _MAX_AGE.search(resp.headers.get("Cache-Control", ""))
        except (OSError, ValueError) as exc:
            _log.warning("Firebase signing certificates unavailable", extra={"fields": {"error": repr(exc)}})
            raise errors.Unavailable("cannot fetch Firebase signing certificates") from None
        self._keys = {kid: load_pem_x509_certificate(pem.encode()).public_key() for kid, pem in certs.items()}
        self._expires = time.monotonic() + (int(max_age.group(1)) if max_age else 3600)

    def _key(self, kid: str) -> Any:
        with self._lock:
            now = time.monotonic()
            # An unknown kid refetches at most every 30 s: random kids must not make every
            # request wait on Google's certificate endpoint.
            if now >= self._expires or (kid not in self._keys and now - self._last_fetch >= 30):
                self._last_fetch = now
                self._fetch()
            key = self._keys.get(kid)
        if key is None:
            raise errors.StudioError(errors.TOKEN_INVALID, "token signed by an unknown key")
        return key

    def _decode_unsigned(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        """Emulator tokens: no signature to check, every other claim checked as in production."""
        if header.get("alg") != "none" or not token.endswith("."):
            raise errors.StudioError(errors.TOKEN_INVALID, "unexpected emulator token header")
        return jwt.decode(
            token, options={"verify_signature": False, "verify_exp": True, "verify_iat": True,
                            "verify_aud": True, "verify_iss": True, "verify_sub": True, "require": _REQUIRED},
            audience=self.project_id, issuer=f"https://securetoken.google.com/{self.project_id}",
            leeway=self._leeway_s,
        )

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if self.emulator:
                claims = self._decode_unsigned(token, header)
            else:
                if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
                    raise errors.StudioError(errors.TOKEN_INVALID, "unexpected token header")
                claims = jwt.decode(
                    token, self._key(header["kid"]), algorithms=["RS256"], audience=self.project_id,
                    issuer=f"https://securetoken.google.com/{self.project_id}", leeway=self._leeway_s,
                    options={"require": _REQUIRED},
                )
        except jwt.PyJWTError as exc:
            raise errors.StudioError(errors.TOKEN_INVALID, token_refusal(exc)) from None
        try:
            auth_time = int(float(claims["auth_time"]))
        except (TypeError, ValueError, OverflowError):  # a float "inf"/"nan" must not become a 500
            raise errors.StudioError(errors.TOKEN_INVALID, "token has a malformed auth_time") from None
        if not claims.get("sub") or auth_time > time.time() + self._leeway_s:
            raise errors.StudioError(errors.TOKEN_INVALID, "token has no subject or a future auth_time")
        if self._revocation is not None:
            # After the signature and claims: only genuine tokens cost an account lookup.
            self._revocation.check(str(claims["sub"]), auth_time)
        return Principal(user_id=str(claims["sub"]), email=claims.get("email"), issuer="firebase",
                         is_system=claims.get("studio_system") is True, claims=claims)

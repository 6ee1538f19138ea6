"""Firebase Auth / Identity Platform ID tokens, for production (STUDIO_AUTH=firebase).

RS256 tokens checked against Google's published x509 certificates, which are cached
for as long as their Cache-Control allows. Rules from Firebase's "verify ID tokens
using a third-party JWT library": aud = project, iss = securetoken URL, sub non-empty,
auth_time in the past.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from typing import Any

import jwt

from studio.kernel import errors
from studio.kernel.context import Principal

_MAX_AGE = re.compile(r"max-age=(\d+)")


class FirebaseTokenVerifier:
    def __init__(self, project_id: str, *, certs_url: str, timeout_s: float = 5.0, leeway_s: int = 30) -> None:
        if not project_id:
            raise ValueError("FIREBASE_PROJECT_ID is required for firebase auth")
        self.project_id = project_id
        self._certs_url = certs_url
        self._timeout_s = timeout_s
        self._leeway_s = leeway_s
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._expires = 0.0

    def _fetch(self) -> None:
        from cryptography.x509 import load_pem_x509_certificate

        try:
            with urllib.request.urlopen(self._certs_url, timeout=self._timeout_s) as resp:  # noqa: S310
                certs = json.loads(resp.read())
                max_age = _MAX_AGE.search(resp.headers.get("Cache-Control", ""))
        except (OSError, ValueError) as exc:
            raise errors.Unavailable(f"cannot fetch Firebase signing certificates: {exc}") from None
        self._keys = {kid: load_pem_x509_certificate(pem.encode()).public_key() for kid, pem in certs.items()}
        self._expires = time.monotonic() + (int(max_age.group(1)) if max_age else 3600)

    def _key(self, kid: str) -> Any:
        with self._lock:
            if time.monotonic() >= self._expires or kid not in self._keys:
                self._fetch()
            key = self._keys.get(kid)
        if key is None:
            raise errors.StudioError(errors.TOKEN_INVALID, "token signed by an unknown key")
        return key

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
                raise errors.StudioError(errors.TOKEN_INVALID, "unexpected token header")
            claims = jwt.decode(
                token, self._key(header["kid"]), algorithms=["RS256"], audience=self.project_id,
                issuer=f"https://securetoken.google.com/{self.project_id}", leeway=self._leeway_s,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "auth_time"]},
            )
        except jwt.PyJWTError as exc:
            raise errors.StudioError(errors.TOKEN_INVALID, f"token rejected: {exc}") from None
        if not claims.get("sub") or float(claims["auth_time"]) > time.time() + self._leeway_s:
            raise errors.StudioError(errors.TOKEN_INVALID, "token has no subject or a future auth_time")
        return Principal(user_id=str(claims["sub"]), email=claims.get("email"), issuer="firebase",
                         is_system=claims.get("studio_system") is True, claims=claims)

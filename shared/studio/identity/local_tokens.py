"""Access tokens of the built-in issuer: short-lived EdDSA JWTs naming the session."""
from __future__ import annotations

import time
import uuid
from typing import Any

from studio.identity import eddsa_jwt
from studio.identity.signing_keys import ALG, KeyRing, SigningKey, jwk_to_public_key
from studio.kernel import errors
from studio.kernel.context import Principal

AUDIENCE = "studio"
KEY_CACHE_S = 300  # a key dropped from the JWKS stops verifying within this (plus the JWKS cache)


class LocalTokenIssuer:
    def __init__(self, keyring: KeyRing, *, issuer: str, ttl_s: int) -> None:
        self._keyring = keyring
        self.issuer = issuer
        self.ttl_s = ttl_s

    def issue(self, user_id: str, email: str | None, session_id: str | None, *, system: bool = False) -> str:
        return self.sign_with(self._keyring.current(), user_id, email, session_id, system=system)

    def signing_key(self) -> SigningKey:
        """The current key, fetched (and rotated if due) outside any transaction, so that a
        transaction can sign with ``sign_with`` without the key ring's own store writes."""
        return self._keyring.current()

    def sign_with(self, key: SigningKey, user_id: str, email: str | None, session_id: str | None, *,
                  system: bool = False) -> str:
        import jwt  # with cryptography, ~25 ms: paid on first use, not at cold start

        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.issuer, "aud": AUDIENCE, "sub": user_id, "iat": now,
                                  "exp": now + self.ttl_s, "jti": uuid.uuid4().hex}
        if email:
            claims["email"] = email
        if session_id:
            claims["sid"] = session_id
        if system:
            claims["sys"] = True
        return jwt.encode(claims, key.private_key, algorithm=ALG, headers={"kid": key.kid})


class LocalTokenVerifier:
    def __init__(self, keyring: KeyRing, *, issuer: str, leeway_s: int = 30) -> None:
        self._keyring = keyring
        self._issuer = issuer
        self._leeway_s = leeway_s
        self._keys: dict[str, Any] = {}
        self._last_forced = -1e9

    def _key(self, kid: str) -> Any:
        cached = self._keys.get(kid)
        if cached is not None and time.monotonic() - cached[1] < KEY_CACHE_S:
            return cached[0]
        # An unknown kid may be a key another instance just added: re-read the JWKS, at most every 10 s
        # (random kids must not turn every request into a store read).
        may_refresh = time.monotonic() - self._last_forced >= 10
        for refresh in (False, True) if may_refresh else (False,):
            if refresh:
                self._last_forced = time.monotonic()
            for jwk in self._keyring.jwks(refresh=refresh)["keys"]:
                if jwk["kid"] == kid:
                    key = jwk_to_public_key(jwk)
                    self._keys[kid] = (key, time.monotonic())
                    return key
        self._keys.pop(kid, None)  # retired: it no longer verifies anything
        raise errors.StudioError(errors.TOKEN_INVALID, "token signed by an unknown key")

    def verify(self, token: str) -> Principal:
        # eddsa_jwt, not PyJWT: the first authenticated request of every function pays for this
        # import, and PyJWT's is ~30 ms of algorithms a local token never uses (decision 0081).
        try:
            header = eddsa_jwt.unverified_header(token)
            if header.get("alg") != ALG or not isinstance(header.get("kid"), str):
                raise errors.StudioError(errors.TOKEN_INVALID, "unexpected token header")
            claims = eddsa_jwt.decode(token, self._key(header["kid"]), audience=AUDIENCE, issuer=self._issuer,
                                      leeway_s=self._leeway_s)
        except eddsa_jwt.TokenRefused as exc:
            raise errors.StudioError(errors.TOKEN_INVALID, exc.detail) from None
        return Principal(user_id=str(claims["sub"]), email=claims.get("email"), session_id=claims.get("sid"),
                         is_system=claims.get("sys") is True, issuer="local", claims=claims)

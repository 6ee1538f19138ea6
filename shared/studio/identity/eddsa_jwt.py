"""Check the built-in issuer's access tokens (compact JWS, EdDSA over Ed25519, RFC 7515 / RFC 8037)
with cryptography's Ed25519 primitive alone, not PyJWT.

Why: ``import jwt`` loads PyJWT's whole algorithm table (RSA, EC, HMAC, X.509 ...), about 30 ms on
the first authenticated request of every function; the Ed25519 primitive is about 5 ms (decision
0081). PyJWT still signs the tokens (login, refresh) and verifies Firebase's RS256 ones.

The rules are PyJWT's for the options local_tokens.py used: each segment canonical base64url without
padding (PyJWT also takes ``=`` padding, which our issuer never writes); the header names ``alg: EdDSA`` and a
string ``kid`` and no ``crit``; the signature is checked before any claim is read; ``exp``, ``iat``,
``sub``, ``iss`` and ``aud`` are required; ``exp`` <= now - leeway is expired, ``iat`` or ``nbf``
> now + leeway is not valid yet; ``aud`` (a string or a list of strings) holds the audience;
``iss`` equals the issuer; ``sub`` and ``jti`` are strings. A refusal says why in the words of
kernel/token_errors.py, the same as PyJWT's refusals get.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALG = "EdDSA"
REQUIRED = ("exp", "iat", "sub", "iss", "aud")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")  # base64url without padding (RFC 7515 section 2)
_SIGNATURE_BYTES = 64


class TokenRefused(Exception):
    """A token that does not verify; ``detail`` is the problem detail, in stable words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.detail = reason


MALFORMED = "token is malformed"
BAD_SIGNATURE = "token signature does not verify"
BAD_ALGORITHM = "token uses an algorithm that is not allowed"
EXPIRED = "token has expired"
NOT_YET_VALID = "token is not valid yet"
OTHER_AUDIENCE = "token is for another audience"
OTHER_ISSUER = "token is from another issuer"
MISSING_CLAIM = "token lacks a required claim"
INVALID = "token is invalid"


def _b64url(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise TokenRefused(MALFORMED)
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise TokenRefused(MALFORMED) from None
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
        raise TokenRefused(MALFORMED)  # non-canonical (stray trailing bits): one token, one spelling, as PyJWT
    return raw


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url(segment))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise TokenRefused(MALFORMED) from None
    if not isinstance(value, dict):
        raise TokenRefused(MALFORMED)
    return value


def _segments(token: str) -> tuple[str, str, str]:
    parts = token.split(".")
    if len(parts) != 3 or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise TokenRefused(MALFORMED)
    return parts[0], parts[1], parts[2]


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, parsed but not trusted: it names the key to verify with."""
    return _json_object(_segments(token)[0])


def public_key(jwk: dict[str, Any]) -> Ed25519PublicKey:
    """An OKP/Ed25519 JWK (RFC 8037 section 2) -> the key; anything else is refused."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise ValueError("not an Ed25519 OKP key")
    raw = _b64url(jwk["x"])
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    # NaN, Infinity (json.loads takes both) and ints beyond a float are no time: refused, never an
    # OverflowError (a 500) nor an exp that never comes
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) >= 1e15 or value != value:
        raise TokenRefused(MALFORMED if name == "exp" else INVALID)
    return float(value)


def _check_claims(claims: dict[str, Any], *, audience: str, issuer: str, leeway_s: float, now: float) -> None:
    if any(name not in claims for name in REQUIRED):
        raise TokenRefused(MISSING_CLAIM)
    if _number(claims, "iat") > now + leeway_s:
        raise TokenRefused(NOT_YET_VALID)
    if "nbf" in claims and _number(claims, "nbf") > now + leeway_s:
        raise TokenRefused(NOT_YET_VALID)
    if _number(claims, "exp") <= now - leeway_s:
        raise TokenRefused(EXPIRED)
    aud = claims["aud"]
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise TokenRefused(OTHER_AUDIENCE)
    if audience not in audiences:
        raise TokenRefused(OTHER_AUDIENCE)
    if claims["iss"] != issuer:
        raise TokenRefused(OTHER_ISSUER)
    if not isinstance(claims["sub"], str) or ("jti" in claims and not isinstance(claims["jti"], str)):
        raise TokenRefused(INVALID)


def decode(token: str, key: Ed25519PublicKey, *, audience: str, issuer: str, leeway_s: float = 0,
           now: float | None = None) -> dict[str, Any]:
    """The token's claims, once its signature verifies under ``key`` and its claims hold."""
    from cryptography.exceptions import InvalidSignature

    head, body, signature = _segments(token)
    header = _json_object(head)
    if header.get("alg") != ALG:
        raise TokenRefused(BAD_ALGORITHM)
    if "crit" in header:  # RFC 7515 4.1.11: extensions we do not understand make the token invalid
        raise TokenRefused(MALFORMED)
    raw_signature = _b64url(signature)
    if len(raw_signature) != _SIGNATURE_BYTES:
        raise TokenRefused(BAD_SIGNATURE)
    try:
        key.verify(raw_signature, f"{head}.{body}".encode("ascii"))
    except InvalidSignature:
        raise TokenRefused(BAD_SIGNATURE) from None
    claims = _json_object(body)
    _check_claims(claims, audience=audience, issuer=issuer, leeway_s=leeway_s,
                  now=time.time() if now is None else now)
    return claims

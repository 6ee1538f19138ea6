"""Stable words for a refused token. A JWT library's own message quotes its parser ("Invalid
header string: 'utf-8' codec can't decode byte 0xff ...") and changes between versions; a
problem ``detail`` must say what is wrong in our words, the same every time."""
from __future__ import annotations


def token_refusal(exc: Exception) -> str:
    """The ``detail`` for a token PyJWT refused (``exc`` a ``jwt.PyJWTError``)."""
    import jwt

    wording: tuple[tuple[type[Exception], str], ...] = (
        (jwt.ExpiredSignatureError, "token has expired"),
        (jwt.ImmatureSignatureError, "token is not valid yet"),
        (jwt.InvalidAudienceError, "token is for another audience"),
        (jwt.InvalidIssuerError, "token is from another issuer"),
        (jwt.MissingRequiredClaimError, "token lacks a required claim"),
        (jwt.InvalidSignatureError, "token signature does not verify"),
        (jwt.InvalidAlgorithmError, "token uses an algorithm that is not allowed"),
        (jwt.DecodeError, "token is malformed"),
    )
    for kind, text in wording:
        if isinstance(exc, kind):
            return text
    return "token is invalid"

"""The built-in issuer's token check without PyJWT (identity/eddsa_jwt.py, decision 0081) holds PyJWT's
rules: every token below is judged by both, and they must agree on accepting it and, when refused,
on the words of the refusal (PyJWT's exception through kernel/token_errors.token_refusal)."""
from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from studio.identity import eddsa_jwt
from studio.kernel.token_errors import token_refusal

ISSUER, AUDIENCE, LEEWAY = "http://issuer.test", "studio", 30
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _now() -> int:
    # read when a token is made, not at import: the suite runs for half an hour, and a token made at
    # collection would have expired by the time its test runs
    return int(time.time())


def _claims(**changes: Any) -> dict[str, Any]:
    now = _now()
    claims: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u_1", "iat": now, "exp": now + 600,
                              "jti": "j1", "sid": "s_1"}
    for name, value in changes.items():
        if value is _DROP:
            claims.pop(name)
        else:
            claims[name] = value
    return claims


_DROP = object()


def _signed(claims: dict[str, Any], key: Ed25519PrivateKey = KEY, header: dict[str, Any] | None = None) -> str:
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1", **(header or {})})


def _raw(header: dict[str, Any], claims: Any, key: Ed25519PrivateKey = KEY) -> str:
    """A token built by hand: what PyJWT's encoder would refuse to write."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(key.sign(signing_input.encode()))}"


def _pyjwt(token: str) -> str:
    try:
        jwt.decode(token, KEY.public_key(), algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER, leeway=LEEWAY,
                   options={"require": list(eddsa_jwt.REQUIRED)})
    except jwt.PyJWTError as exc:
        return token_refusal(exc)
    return "accepted"


def _ours(token: str) -> str:
    try:
        eddsa_jwt.decode(token, KEY.public_key(), audience=AUDIENCE, issuer=ISSUER, leeway_s=LEEWAY)
    except eddsa_jwt.TokenRefused as exc:
        return exc.detail
    return "accepted"


def _non_canonical(token: str) -> str:
    """The same signature bytes spelled with stray trailing bits (86 base64url characters carry 516 bits)."""
    head, body, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    return f"{head}.{body}.{sig[:-1]}{alphabet[last ^ 1]}"


def _tamper_payload(token: str) -> str:
    head, _, sig = token.split(".")
    return f"{head}.{_b64(json.dumps(_claims(sub='u_admin')).encode())}.{sig}"


def _good() -> str:
    return _signed(_claims())


def _tokens() -> dict[str, str]:
    """Every case, signed now (their times are relative to the moment the test runs)."""
    now, good = _now(), _good()
    return {
        "good": good,
        "good, audience in a list": _signed(_claims(aud=["other", AUDIENCE])),
        "good, within the leeway after exp": _signed(_claims(exp=now - 10)),
        "expired": _signed(_claims(exp=now - 3600)),
        "expired exactly at the leeway": _signed(_claims(exp=now - LEEWAY - 1)),
        "issued in the future": _signed(_claims(iat=now + 3600)),
        "not before in the future": _signed(_claims(nbf=now + 3600)),
        "other audience": _signed(_claims(aud="someone-else")),
        "audience list without ours": _signed(_claims(aud=["a", "b"])),
        "other issuer": _signed(_claims(iss="http://evil.test")),
        "no exp": _signed(_claims(exp=_DROP)),
        "no iat": _signed(_claims(iat=_DROP)),
        "no sub": _signed(_claims(sub=_DROP)),
        "no aud": _signed(_claims(aud=_DROP)),
        "no iss": _signed(_claims(iss=_DROP)),
        "exp not a number": _signed(_claims(exp="tomorrow")),
        "signed by another key": _signed(_claims(), key=OTHER_KEY),
        "payload swapped after signing": _tamper_payload(good),
        "signature cut short": good[:-8],
        "signature cut by one character": good[:-1],
        "signature spelled non-canonically": _non_canonical(good),
        "no signature": good.rsplit(".", 1)[0] + ".",
        "two segments": good.rsplit(".", 1)[0],
        "four segments": good + ".x",
        "garbage": "garbage",
        "empty": "",
        "not base64": "!!!.???.***",
        "payload not JSON": f"{good.split('.')[0]}.{_b64(b'not json')}.{good.split('.')[2]}",
        "alg none": _raw({"alg": "none", "kid": "k1"}, _claims()).rsplit(".", 1)[0] + ".",
        "alg HS256": _raw({"alg": "HS256", "kid": "k1"}, _claims()),
        "payload a list": _raw({"alg": "EdDSA", "kid": "k1"}, [1, 2]),
        "header a list": _b64(b"[1]") + "." + good.split(".", 1)[1],
    }


@pytest.mark.parametrize("name", sorted(_tokens()))
def test_it_judges_each_token_as_pyjwt_does(name: str) -> None:
    token = _tokens()[name]
    assert _ours(token) == _pyjwt(token), name


def test_the_cases_cover_acceptance_and_every_kind_of_refusal() -> None:
    verdicts = {_ours(t) for t in _tokens().values()}  # a check that accepted all, or refused all, would show here
    assert {"accepted", eddsa_jwt.EXPIRED, eddsa_jwt.NOT_YET_VALID, eddsa_jwt.OTHER_AUDIENCE, eddsa_jwt.OTHER_ISSUER,
            eddsa_jwt.MISSING_CLAIM, eddsa_jwt.BAD_SIGNATURE, eddsa_jwt.MALFORMED, eddsa_jwt.BAD_ALGORITHM} <= verdicts


def test_claims_come_back_once_verified() -> None:
    claims = eddsa_jwt.decode(_good(), KEY.public_key(), audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "u_1" and claims["sid"] == "s_1"


def test_a_padded_segment_is_refused() -> None:
    # PyJWT takes "=" padding (some issuers write it); ours never does, and RFC 7515 section 2 omits it.
    head, body, sig = _good().split(".")
    assert _ours(f"{head}.{body}.{sig}==") == eddsa_jwt.MALFORMED


def test_a_critical_header_extension_is_refused() -> None:
    # PyJWT 2.x and RFC 7515 4.1.11 agree; here it is refused even when the signature verifies.
    assert _ours(_raw({"alg": "EdDSA", "kid": "k1", "crit": ["exp"]}, _claims())) == eddsa_jwt.MALFORMED


def test_the_jwk_of_the_key_ring_gives_the_key() -> None:
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key = eddsa_jwt.public_key({"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": "k1"})
    assert eddsa_jwt.decode(_good(), key, audience=AUDIENCE, issuer=ISSUER)["sub"] == "u_1"
    for bad in ({"kty": "RSA", "crv": "Ed25519", "x": _b64(raw)}, {"kty": "OKP", "crv": "X25519", "x": _b64(raw)},
                {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw[:31])}, {"kty": "OKP", "crv": "Ed25519"}):
        with pytest.raises((ValueError, eddsa_jwt.TokenRefused)):
            eddsa_jwt.public_key(bad)


def test_the_header_names_the_key_before_anything_is_trusted() -> None:
    assert eddsa_jwt.unverified_header(_good()) == {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    with pytest.raises(eddsa_jwt.TokenRefused):
        eddsa_jwt.unverified_header("a.b")


@pytest.mark.parametrize("exp", [10**400, float("inf"), 1e308 * 10])
def test_a_time_claim_out_of_range_is_refused_not_crashed(exp: Any) -> None:
    # A signed token whose exp is a huge int or Infinity must be a refusal, never an OverflowError (a 500)
    # nor a token that never expires.
    for claim in ("exp", "iat", "nbf"):
        assert _ours(_raw({"alg": "EdDSA", "kid": "k1"}, _claims(**{claim: exp}))) in (
            eddsa_jwt.MALFORMED, eddsa_jwt.INVALID), claim

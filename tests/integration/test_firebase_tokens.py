"""The Firebase ID-token verifier against a certificate endpoint served on loopback:
the same fetch, cache and checks as production, with a key pair we make here."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.adapters.firebase_tokens import FirebaseTokenVerifier
from studio.kernel import errors

PROJECT = "studio-test"


def _key_and_cert() -> tuple[rsa.RSAPrivateKey, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.system.gserviceaccount.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def cert_server() -> Iterator[tuple[str, rsa.RSAPrivateKey, list[int]]]:
    key, pem = _key_and_cert()
    hits = [0]

    @Request.application
    def app(request: Request) -> Response:
        hits[0] += 1
        return Response(json.dumps({"kid-1": pem}), content_type="application/json",
                        headers={"Cache-Control": "public, max-age=3600"})

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/certs", key, hits
    server.shutdown()


def _token(key: rsa.RSAPrivateKey, **overrides: object) -> str:
    now = int(time.time())
    claims = {"iss": f"https://securetoken.google.com/{PROJECT}", "aud": PROJECT, "sub": "firebase-uid-1",
              "iat": now, "exp": now + 3600, "auth_time": now - 10, "email": "f@example.com"}
    claims.update(overrides)
    kid = str(claims.pop("_kid", "kid-1"))
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_valid_token_gives_a_principal_and_certs_are_cached(cert_server) -> None:  # noqa: ANN001
    url, key, hits = cert_server
    verifier = FirebaseTokenVerifier(PROJECT, certs_url=url)
    before = hits[0]
    principal = verifier.verify(_token(key))
    verifier.verify(_token(key))
    assert principal.user_id == "firebase-uid-1" and principal.issuer == "firebase"
    assert principal.email == "f@example.com"
    assert hits[0] == before + 1  # second verification used the cache


@pytest.mark.parametrize("overrides", [
    {"aud": "another-project"},
    {"iss": "https://securetoken.google.com/another-project"},
    {"exp": int(time.time()) - 3600},
    {"sub": ""},
    {"auth_time": int(time.time()) + 3600},
    {"_kid": "unknown-kid"},
])
def test_bad_tokens_are_refused(cert_server, overrides: dict) -> None:  # noqa: ANN001
    url, key, _ = cert_server
    with pytest.raises(errors.StudioError) as err:
        FirebaseTokenVerifier(PROJECT, certs_url=url).verify(_token(key, **overrides))
    assert err.value.code is errors.TOKEN_INVALID


def test_token_signed_by_another_key_is_refused(cert_server) -> None:  # noqa: ANN001
    url, _, _ = cert_server
    stranger, _ = _key_and_cert()
    with pytest.raises(errors.StudioError):
        FirebaseTokenVerifier(PROJECT, certs_url=url).verify(_token(stranger))


def test_unreachable_cert_endpoint_is_503_not_a_crash() -> None:
    verifier = FirebaseTokenVerifier(PROJECT, certs_url="http://127.0.0.1:9/certs", timeout_s=0.5)
    key, _ = _key_and_cert()
    with pytest.raises(errors.StudioError) as err:
        verifier.verify(_token(key))
    assert err.value.status == 503

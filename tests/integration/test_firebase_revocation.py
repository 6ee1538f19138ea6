"""Firebase revocation checks and the verifier's emulator mode.

Two kinds of test:
- fast, always on: IdentityToolkitRevocation against a minimal loopback server answering the
  documented ``accounts:lookup`` JSON. That server is a fake at the edge (Identity Toolkit is a cloud
  API), kept to the few fields the checker reads; the emulator test below holds the real behaviour.
- slow, opt-in (STUDIO_FIREBASE_EMULATOR=1): the real Firebase Auth emulator from npm firebase-tools,
  which mints real (unsigned) emulator tokens and really revokes and disables accounts.
  Set STUDIO_FIREBASE_TOOLS_DIR to an existing ``npm install --prefix`` dir to skip the install.
"""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.adapters.firebase_revocation import IdentityToolkitRevocation
from studio.adapters.firebase_tokens import EMULATOR_ENV, FirebaseTokenVerifier
from studio.adapters.google_credentials import access_token_provider
from studio.kernel import errors
from tests.support.auth_emulator import auth_emulator_session
from tests.support.identity_toolkit_fake import IdentityToolkitFake

PROJECT = "demo-studio"
DEAD_CERTS = "http://127.0.0.1:9/certs"  # never fetched: emulator tokens carry no signature


@pytest.fixture
def lookup() -> Iterator[IdentityToolkitFake]:
    server = IdentityToolkitFake()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _checker(server: IdentityToolkitFake, clock: Clock, **kwargs: Any) -> IdentityToolkitRevocation:
    return IdentityToolkitRevocation(PROJECT, endpoint=server.endpoint, credentials_provider=lambda: "tok-1",
                                     clock=clock, **kwargs)


def _refused(call: Any, detail: str, status: int = 401) -> None:
    with pytest.raises(errors.StudioError) as exc:
        call()
    assert exc.value.status == status and detail in exc.value.detail


def test_lookup_request_and_verdicts(lookup: IdentityToolkitFake) -> None:
    lookup.accounts = {"alive": {"validSince": "500"}, "off": {"validSince": "1", "disabled": True}}
    checker = _checker(lookup, Clock())
    checker.check("alive", 500)  # same second as validSince: signed in then, not revoked
    assert lookup.requests == [(f"/v1/projects/{PROJECT}/accounts:lookup", "Bearer tok-1", {"localId": ["alive"]})]
    _refused(lambda: checker.check("alive", 499), "token revoked")
    _refused(lambda: checker.check("off", 10**10), "account disabled")
    _refused(lambda: checker.check("deleted", 10**10), "account not found")


def test_account_state_is_cached_per_uid_for_cache_s(lookup: IdentityToolkitFake) -> None:
    lookup.accounts = {"u": {"validSince": "100"}}
    clock = Clock()
    checker = _checker(lookup, clock, cache_s=60)
    checker.check("u", 150)
    lookup.accounts["u"]["validSince"] = "200"  # sessions revoked upstream
    clock.now += 59
    checker.check("u", 150)  # still inside the cache window: the revocation is not seen yet
    assert len(lookup.requests) == 1
    clock.now += 2
    _refused(lambda: checker.check("u", 150), "token revoked")
    checker.check("u", 200)  # a fresh sign-in after the revocation works with the cached state
    assert len(lookup.requests) == 2
    checker.forget("u")
    checker.check("u", 200)
    assert len(lookup.requests) == 3


def test_cache_zero_looks_up_every_time_and_the_cache_is_bounded(lookup: IdentityToolkitFake) -> None:
    lookup.accounts = {u: {"validSince": "1"} for u in "abc"}
    strict = _checker(lookup, Clock(), cache_s=0)
    strict.check("a", 5)
    strict.check("a", 5)
    assert len(lookup.requests) == 2
    bounded = _checker(lookup, Clock(), max_entries=2)
    for uid in "abca":  # "a" was evicted by "c"
        bounded.check(uid, 5)
    assert [body["localId"] for _, _, body in lookup.requests[2:]] == [["a"], ["b"], ["c"], ["a"]]


def test_lookup_failures_are_503_never_500(lookup: IdentityToolkitFake) -> None:
    lookup.status = 503
    _refused(lambda: _checker(lookup, Clock()).check("u", 1), "HTTP 503", status=503)
    dead = IdentityToolkitRevocation(PROJECT, endpoint="http://127.0.0.1:9", credentials_provider=lambda: "t",
                                     timeout_s=0.5)
    _refused(lambda: dead.check("u", 1), "account lookup failed", status=503)


def test_credentials_are_required_outside_the_emulator() -> None:
    with pytest.raises(ValueError):
        IdentityToolkitRevocation(PROJECT)


def test_missing_google_credentials_are_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    _refused(access_token_provider(), "no Google credentials", status=503)


# -- the verifier's emulator mode, with tokens shaped like the emulator's ---------------------------


def _unsigned(**overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": f"https://securetoken.google.com/{PROJECT}", "aud": PROJECT, "sub": "uid-1",
              "user_id": "uid-1", "iat": now, "exp": now + 3600, "auth_time": now}
    claims.update(overrides)

    def b64(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def test_unsigned_tokens_need_the_emulator_mode_and_its_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EMULATOR_ENV, raising=False)
    _refused(lambda: FirebaseTokenVerifier(PROJECT, certs_url=DEAD_CERTS).verify(_unsigned()), "header")
    with pytest.raises(ValueError):
        FirebaseTokenVerifier(PROJECT, certs_url=DEAD_CERTS, emulator=True)
    monkeypatch.setenv(EMULATOR_ENV, "127.0.0.1:9099")
    verifier = FirebaseTokenVerifier(PROJECT, certs_url=DEAD_CERTS, emulator=True)
    assert verifier.verify(_unsigned()).user_id == "uid-1"
    for bad in (_unsigned(aud="other"), _unsigned(exp=int(time.time()) - 3600), _unsigned(sub=""),
                _unsigned(auth_time=int(time.time()) + 3600), _unsigned(auth_time="inf"),
                _unsigned()[:-1] + "c2ln"):  # a signature on an alg-none token
        _refused(lambda bad=bad: verifier.verify(bad), "")


def test_verifier_asks_revocation_only_for_genuine_tokens(monkeypatch: pytest.MonkeyPatch,
                                                          lookup: IdentityToolkitFake) -> None:
    monkeypatch.setenv(EMULATOR_ENV, "127.0.0.1:9099")
    lookup.accounts = {"uid-1": {"validSince": str(int(time.time()) + 5)}}
    verifier = FirebaseTokenVerifier(PROJECT, certs_url=DEAD_CERTS, emulator=True,
                                     revocation=_checker(lookup, Clock()))
    _refused(lambda: verifier.verify(_unsigned(aud="other")), "")
    assert lookup.requests == []
    _refused(lambda: verifier.verify(_unsigned()), "token revoked")


# -- the real Firebase Auth emulator (slow, opt-in) --------------------------------------------------



@pytest.fixture
def auth_emulator(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from auth_emulator_session(tmp_path, tmp_path_factory.getbasetemp(), PROJECT)


@pytest.mark.slow
def test_emulator_tokens_verify_and_revocation_refuses_them(auth_emulator: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EMULATOR_ENV, auth_emulator)
    base = f"http://{auth_emulator}/identitytoolkit.googleapis.com/v1"
    admin = {"Authorization": "Bearer owner"}

    def call(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        resp = httpx.post(f"{base}/{path}", json=body, headers=headers or {}, timeout=10)
        assert resp.status_code == 200, resp.text
        return resp.json()

    creds = {"email": "rev@example.com", "password": "secret-123", "returnSecureToken": True}
    signed_up = call("accounts:signUp?key=any", creds)
    uid, token = signed_up["localId"], signed_up["idToken"]
    clock = Clock()
    revocation = IdentityToolkitRevocation.for_emulator(PROJECT, auth_emulator, cache_s=30, clock=clock)
    verifier = FirebaseTokenVerifier(PROJECT, certs_url=DEAD_CERTS, emulator=True, revocation=revocation)
    assert verifier.verify(token).user_id == uid
    # The same real emulator token is refused by a production verifier: it is unsigned.
    _refused(lambda: FirebaseTokenVerifier(PROJECT, certs_url=DEAD_CERTS).verify(token), "header")

    time.sleep(1.1)  # validSince has one-second resolution: revoke strictly after the sign-in
    call(f"projects/{PROJECT}/accounts:update", {"localId": uid, "validSince": str(int(time.time()))}, admin)
    assert verifier.verify(token).user_id == uid  # cached account state: not seen yet
    clock.now += 31
    _refused(lambda: verifier.verify(token), "token revoked")
    fresh = call("accounts:signInWithPassword?key=any", creds)["idToken"]
    assert verifier.verify(fresh).user_id == uid  # signing in again gives a working token

    call(f"projects/{PROJECT}/accounts:update", {"localId": uid, "disableUser": True}, admin)
    clock.now += 31
    _refused(lambda: verifier.verify(fresh), "account disabled")
    call(f"projects/{PROJECT}/accounts:delete", {"localId": uid}, admin)
    clock.now += 31
    _refused(lambda: verifier.verify(fresh), "account not found")

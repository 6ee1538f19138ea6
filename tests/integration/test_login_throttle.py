"""Failed sign-ins are throttled per account and per client IP (429 LOGIN_THROTTLED with
Retry-After), and the client IP is the load balancer's X-Forwarded-For entry only when the
runtime is configured to sit behind it: rotating the header escapes nothing."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import PASSWORD, new_user
from tests.support.runtime_process import RuntimeProcess

LB = "35.191.0.1"  # the load balancer's own entry, appended after the client's
PER_ACCOUNT, PER_IP, WINDOW_S = 3, 5, 120
_ips = (f"198.51.100.{i}" for i in itertools.count(1))


def _runtime(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> Iterator[RuntimeProcess]:
    runtime = RuntimeProcess(tmp_path_factory.mktemp(name), STUDIO_LOGIN_MAX_FAILURES_PER_ACCOUNT=str(PER_ACCOUNT),
                             STUDIO_LOGIN_MAX_FAILURES_PER_IP=str(PER_IP), STUDIO_LOGIN_FAILURE_WINDOW_S=str(WINDOW_S),
                             **env)
    runtime.start()
    yield runtime
    runtime.stop()


@pytest.fixture(scope="module")
def behind_lb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    yield from _runtime(tmp_path_factory, "behind-lb", STUDIO_TRUSTED_PROXY_HOPS="2")


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    yield from _runtime(tmp_path_factory, "direct", STUDIO_TRUSTED_PROXY_HOPS="0", STUDIO_RATE_LIMIT_PER_MINUTE="60")


def _via_lb(client_ip: str, forged: str | None = None) -> dict[str, str]:
    chain = [forged] if forged else []
    return {"X-Forwarded-For": ", ".join([*chain, client_ip, LB])}


def _login(client: httpx.Client, email: str, password: str, headers: dict[str, str]) -> httpx.Response:
    return client.post("/auth/login", json={"email": email, "password": password}, headers=headers)


def _assert_throttled(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "LOGIN_THROTTLED"
    assert 0 < int(r.headers["Retry-After"]) <= WINDOW_S


def test_an_account_is_throttled_whichever_ip_guesses(behind_lb: RuntimeProcess) -> None:
    with httpx.Client(base_url=behind_lb.base_url, timeout=30, headers=_via_lb(next(_ips))) as client:
        victim, bystander = new_user(client, "victim"), new_user(client, "bystander")
        for _ in range(PER_ACCOUNT):
            assert _login(client, victim.email, "Wrong-Guess-000", _via_lb(next(_ips))).status_code == 401
        # Locked: even the right password waits, so a guesser learns nothing from a hit.
        _assert_throttled(_login(client, victim.email, PASSWORD, _via_lb(next(_ips))))
        _assert_throttled(_login(client, victim.email.upper(), "Wrong-Guess-001", _via_lb(next(_ips))))
        assert _login(client, bystander.email, PASSWORD, _via_lb(next(_ips))).status_code == 200


def test_unknown_addresses_are_throttled_like_real_ones(behind_lb: RuntimeProcess) -> None:
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=behind_lb.base_url, timeout=30) as client:
        answers = [_login(client, ghost, "Wrong-Guess-000", _via_lb(next(_ips))) for _ in range(PER_ACCOUNT)]
        assert [r.json()["code"] for r in answers] == ["INVALID_CREDENTIALS"] * PER_ACCOUNT
        _assert_throttled(_login(client, ghost, "Wrong-Guess-000", _via_lb(next(_ips))))


def test_an_ip_is_throttled_and_forging_the_header_does_not_help(behind_lb: RuntimeProcess) -> None:
    guesser, honest = next(_ips), next(_ips)
    with httpx.Client(base_url=behind_lb.base_url, timeout=30, headers=_via_lb(honest)) as client:
        user = new_user(client, "shared-ip")
        for i in range(PER_IP):  # a different account each time, a different forged prefix each time
            forged = f"10.{i}.{i}.{i}, 192.0.2.{i}"
            r = _login(client, f"guess-{i}-{uuid.uuid4().hex[:6]}@example.com", "Wrong-Guess-000",
                       _via_lb(guesser, forged))
            assert r.status_code == 401
        _assert_throttled(_login(client, user.email, PASSWORD, _via_lb(guesser, "203.0.113.99")))
        assert _login(client, user.email, PASSWORD, _via_lb(honest)).status_code == 200  # others are not punished


def test_a_success_clears_the_account_counter_not_the_ip_counter(behind_lb: RuntimeProcess) -> None:
    ip = next(_ips)
    with httpx.Client(base_url=behind_lb.base_url, timeout=30, headers=_via_lb(next(_ips))) as client:
        user = new_user(client, "clears")
        for _ in range(PER_ACCOUNT - 1):
            assert _login(client, user.email, "Wrong-Guess-000", _via_lb(ip)).status_code == 401
        assert _login(client, user.email, PASSWORD, _via_lb(ip)).status_code == 200
        for _ in range(PER_ACCOUNT - 1):  # the account starts over (2 of 3) ...
            assert _login(client, user.email, "Wrong-Guess-000", _via_lb(ip)).status_code == 401
        # ... the address does not: 4 failures so far; a fifth, on another account, reaches its limit.
        assert _login(client, f"x-{uuid.uuid4().hex[:6]}@example.com", "Wrong-Guess-000", _via_lb(ip)).status_code == 401
        _assert_throttled(_login(client, user.email, PASSWORD, _via_lb(ip)))
        assert _login(client, user.email, PASSWORD, _via_lb(next(_ips))).status_code == 200  # the account is open


def test_a_reset_lifts_an_account_lock(behind_lb: RuntimeProcess) -> None:
    with httpx.Client(base_url=behind_lb.base_url, timeout=30, headers=_via_lb(next(_ips))) as client:
        user = new_user(client, "relock")
        for _ in range(PER_ACCOUNT):
            _login(client, user.email, "Wrong-Guess-000", _via_lb(next(_ips)))
        _assert_throttled(_login(client, user.email, PASSWORD, _via_lb(next(_ips))))
        assert client.post("/auth/password/reset", json={"email": user.email}).status_code == 202
        token = next(m["token"] for m in client.get("/console/outbox.json", params={"to": user.email}).json()["mails"]
                     if m["kind"] == "password_reset")
        assert client.post("/auth/password/reset/confirm",
                           json={"token": token, "new_password": "After-Reset-99"}).status_code == 200
        assert _login(client, user.email, "After-Reset-99", _via_lb(next(_ips))).status_code == 200


def test_a_password_change_guess_counts_as_a_failed_sign_in(behind_lb: RuntimeProcess) -> None:
    with httpx.Client(base_url=behind_lb.base_url, timeout=30, headers=_via_lb(next(_ips))) as client:
        user = new_user(client, "oracle")
        for _ in range(PER_ACCOUNT):
            r = client.post("/auth/password", json={"current_password": "Wrong-Guess-000", "new_password": "X-new-pass-1"},
                            headers={**user.auth, **_via_lb(next(_ips))})
            assert r.status_code == 403
        r = client.post("/auth/password", json={"current_password": PASSWORD, "new_password": "X-new-pass-1"},
                        headers={**user.auth, **_via_lb(next(_ips))})
        _assert_throttled(r)


def test_without_trusted_proxies_the_header_is_ignored(direct: RuntimeProcess) -> None:
    """Locally (STUDIO_TRUSTED_PROXY_HOPS=0) every request is its socket peer, whatever it claims."""
    with httpx.Client(base_url=direct.base_url, timeout=30) as client:
        for i in range(PER_IP):
            r = _login(client, f"g{i}-{uuid.uuid4().hex[:6]}@example.com", "Wrong-Guess-000",
                       {"X-Forwarded-For": f"10.0.0.{i}, 192.0.2.{i}"})
            assert r.status_code == 401
        _assert_throttled(_login(client, "anyone@example.com", "Wrong-Guess-000",
                                 {"X-Forwarded-For": "10.9.9.9, 192.0.2.200"}))
        # The request rate limit (60/minute, burst 10, per IP before a tenant is known) holds too.
        codes = [client.get("/.well-known/jwks.json", headers={"X-Forwarded-For": f"10.1.{i}.1, 192.0.2.{i}"}).status_code
                 for i in range(15)]
        assert 429 in codes

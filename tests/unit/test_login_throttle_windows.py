"""The failed sign-in windows on a real SQLite store, with the clock moved by hand."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.adapters.sqlite_store import SqliteStore
from studio.identity import errors as identity_errors
from studio.identity.login_throttle import LoginThrottle, ThrottleLimits
from studio.kernel import errors


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "store.db")
    yield s
    s.close()


def _retry_after(throttle: LoginThrottle, account: str, ip: str) -> int | None:
    try:
        throttle.check(account, ip)
    except errors.StudioError as err:
        assert err.code is identity_errors.LOGIN_THROTTLED and err.status == 429
        return int(err.headers["Retry-After"])
    return None


def test_a_window_closes_the_key_until_it_ends(store: SqliteStore) -> None:
    clock = Clock()
    throttle = LoginThrottle(store, ThrottleLimits(per_account=3, per_ip=100, window_s=60), clock)
    for _ in range(3):
        assert _retry_after(throttle, "acct", "198.51.100.1") is None
        throttle.failed("acct", "198.51.100.1")
    assert _retry_after(throttle, "acct", "198.51.100.2") == 60
    clock.now += 45.5
    assert _retry_after(throttle, "acct", "198.51.100.2") == 15
    clock.now += 15
    assert _retry_after(throttle, "acct", "198.51.100.2") is None
    throttle.failed("acct", "198.51.100.2")  # a new window starts at one
    assert _retry_after(throttle, "acct", "198.51.100.2") is None


def test_ipv6_neighbours_share_one_allowance(store: SqliteStore) -> None:
    throttle = LoginThrottle(store, ThrottleLimits(per_account=100, per_ip=2, window_s=60), Clock())
    throttle.failed("a1", "2001:db8:0:1::1")
    throttle.failed("a2", "2001:db8:0:1::ffff")
    assert _retry_after(throttle, "a3", "2001:db8:0:1:1234::9") == 60
    assert _retry_after(throttle, "a3", "2001:db8:0:2::1") is None


def test_success_clears_the_account_only(store: SqliteStore) -> None:
    throttle = LoginThrottle(store, ThrottleLimits(per_account=2, per_ip=3, window_s=60), Clock())
    throttle.failed("acct", "198.51.100.1")
    throttle.failed("acct", "198.51.100.1")
    throttle.succeeded("acct")
    assert _retry_after(throttle, "acct", "198.51.100.9") is None
    throttle.failed("other", "198.51.100.1")
    assert _retry_after(throttle, "fresh", "198.51.100.1") == 60

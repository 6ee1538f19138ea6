"""Shared fixtures. Everything here uses real parts: real SQLite files, real HTTP on loopback."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform, start_platform
from tests.support.sqlite_locks import lost_locks


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("platform"), rate_limit_per_minute=1_000_000,
                             bus_backoff_base_s=0.05, sse_heartbeat_s=0.5, ws_ping_s=5.0, ws_idle_s=30.0,
                             login_max_failures_per_ip=1_000_000,  # every test signs in from 127.0.0.1
                             audit_url_allow=("127.0.0.1/32",))  # the audit tests' page server (loopback)
    yield running
    running.stop()


_LOCKS_LOST = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def _platform_keeps_its_sqlite_locks(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test on the session's platform: this process still holds SQLite's locks on its store and
    bus. A test that opened and closed one of their files here dropped them (tests/support/sqlite_locks.py),
    and later tests that start another process on the data folder would fail far from the cause. Said once,
    by the test that lost them: they stay lost for the rest of the session."""
    yield
    if "platform" in request.fixturenames and not request.config.stash.get(_LOCKS_LOST, False):
        lost = lost_locks(request.getfixturevalue("platform").deps.settings.data_dir)
        request.config.stash[_LOCKS_LOST] = bool(lost)
        assert not lost, (f"this test dropped the session platform's SQLite locks on {lost}: it closed a "
                          "descriptor of a live database file (read them with sqlite_locks.bytes_on_disk)")


@pytest.fixture()
def client(platform: RunningPlatform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as c:
        yield c


@pytest.fixture()
def owner(client: httpx.Client) -> User:
    return new_user(client, "owner")


@pytest.fixture()
def tenant(client: httpx.Client, owner: User) -> str:
    return new_tenant(client, owner)


@pytest.fixture(scope="session")
def media_tools() -> None:
    """The media tests need Debian's ffmpeg and ffprobe: missing is a failure, never a silent skip."""
    import shutil

    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: `make test` installs them (infra/install-media-tools.sh)")


@pytest.fixture()
def delivering(platform: RunningPlatform) -> Iterator[None]:
    """The runtime's delivery loop, as `make serve` runs it, for the length of a (browser) test."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            platform.drain()
            stop.wait(0.02)

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    yield
    stop.set()
    worker.join(timeout=10)

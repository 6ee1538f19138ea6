"""kill -9 the runtime: acknowledged data survives, an in-flight message is redelivered
after restart, and a consumer that sees it twice applies it once."""
from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from infra.localrun.manifest import REPO
from studio.adapters.sqlite_bus import SqliteBus
from studio.adapters.sqlite_store import SqliteStore
from tests.support.api import PASSWORD, new_tenant, new_user
from tests.support.runtime_process import RuntimeProcess

pytestmark = pytest.mark.slow
MANIFEST = str(REPO / "tests" / "fixtures" / "crash_manifest.yaml")


def _wait_for(predicate, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_kill_nine_loses_nothing_acknowledged(tmp_path: Path) -> None:
    marker = tmp_path / "applied.txt"
    env = {"STUDIO_MANIFEST": MANIFEST, "CRASH_MARKER": str(marker), "STUDIO_BUS_ACK_DEADLINE_S": "1"}
    first = RuntimeProcess(tmp_path / "data", CRASH_SLEEP="60", **env).start()
    try:
        with httpx.Client(base_url=first.base_url, timeout=30) as c:
            user = new_user(c)
            tenant = new_tenant(c, user, "Durable")
            renamed = c.patch(f"/tenants/{tenant}", json={"name": "Renamed", "base_rev": 1},
                              headers=user.in_tenant(tenant))
            assert renamed.status_code == 200
        bus = SqliteBus(tmp_path / "data" / "bus.db")
        message_id = bus.publish("crash-test", b'{"n": 1}')
        _wait_for(lambda: marker.exists() and message_id in marker.read_text())  # applied, not yet acked
        first.kill9()
    finally:
        first.stop()

    second = RuntimeProcess(tmp_path / "data", CRASH_SLEEP="0", **env).start()
    try:
        with httpx.Client(base_url=second.base_url, timeout=30) as c:
            login = c.post("/auth/login", json={"email": user.email, "password": PASSWORD})
            assert login.status_code == 200
            token = login.json()["access_token"]
            got = c.get(f"/tenants/{tenant}", headers={"Authorization": f"Bearer {token}",
                                                        "X-Tenant-Id": tenant, "X-Env": "dev"})
            assert got.json()["name"] == "Renamed" and got.json()["rev"] == 2
        _wait_for(lambda: bus.stats("fn-crash_recorder")["acked"] == 1)
        assert marker.read_text().splitlines() == [message_id, message_id]  # seen twice
        counter = SqliteStore(tmp_path / "data" / "store.db").get("crash_test/counter")
        assert counter is not None and counter.data == {"applied": 1, "ids": [message_id]}  # applied once
    finally:
        second.stop()


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    runtime = RuntimeProcess(tmp_path / "data", STUDIO_RATE_LIMIT_PER_MINUTE="12").start()
    try:
        with httpx.Client(base_url=runtime.base_url, timeout=30) as c:
            codes = [c.get("/.well-known/jwks.json") for _ in range(6)]
        limited = [r for r in codes if r.status_code == 429]
        assert codes[0].status_code == 200 and limited
        assert limited[0].json()["code"] == "RATE_LIMITED"
        assert int(limited[0].headers["retry-after"]) >= 1
    finally:
        runtime.stop()

"""Two tabs refreshing with the same refresh token at the same moment both get the SAME new pair
(the reuse grace); a consumed token presented after the grace still revokes its whole family."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from studio.adapters.sqlite_store import SqliteStore
from tests.support.api import new_user
from tests.support.platform import RunningPlatform
from tests.support.runtime_process import RuntimeProcess

GRACE_S = 1.0


@pytest.fixture(scope="module")
def short_grace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeProcess]:
    runtime = RuntimeProcess(tmp_path_factory.mktemp("grace"), STUDIO_REFRESH_REUSE_GRACE_S=str(GRACE_S))
    runtime.start()
    yield runtime
    runtime.stop()


def _refresh_at_once(base_url: str, token: str, tabs: int) -> list[httpx.Response]:
    barrier = threading.Barrier(tabs)
    results: list[httpx.Response] = []

    def tab() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as c:
            barrier.wait()
            results.append(c.post("/auth/refresh", json={"refresh_token": token}))

    threads = [threading.Thread(target=tab) for _ in range(tabs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_tabs_refreshing_at_once_get_the_same_pair_and_stay_signed_in(client: httpx.Client,
                                                                       platform: RunningPlatform) -> None:
    user = new_user(client, "tabs")  # the suite's platform: the default 10 s grace
    answers = _refresh_at_once(platform.base_url, user.refresh_token, tabs=6)
    assert [r.status_code for r in answers] == [200] * 6, [r.text for r in answers]
    pairs = {(r.json()["access_token"], r.json()["refresh_token"]) for r in answers}
    assert len(pairs) == 1, "every tab must hold the same pair"
    access, refresh = pairs.pop()
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    assert client.post("/auth/refresh", json={"refresh_token": refresh}).status_code == 200  # the family lives


def test_reuse_after_the_grace_revokes_the_family(short_grace: RuntimeProcess) -> None:
    with httpx.Client(base_url=short_grace.base_url, timeout=30) as client:
        user = new_user(client, "late-reuse")
        rotated = client.post("/auth/refresh", json={"refresh_token": user.refresh_token}).json()
        within = client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
        assert within.status_code == 200 and within.json()["refresh_token"] == rotated["refresh_token"]
        time.sleep(GRACE_S + 0.2)
        reuse = client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
        assert reuse.status_code == 401 and reuse.json()["code"] == "REFRESH_TOKEN_REUSED"
        newest = client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
        assert newest.status_code == 401
        me = client.get("/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
        assert me.status_code == 401 and me.json()["code"] == "TOKEN_INVALID"


def test_the_store_keeps_no_usable_successor(short_grace: RuntimeProcess) -> None:
    """The pair kept for the grace is sealed under the consumed token's secret."""
    with httpx.Client(base_url=short_grace.base_url, timeout=30) as client:
        user = new_user(client, "sealed")
        rotated = client.post("/auth/refresh", json={"refresh_token": user.refresh_token}).json()
    rid = user.refresh_token.split(".")[0]
    store = SqliteStore(Path(short_grace.env["STUDIO_DATA_DIR"]) / "store.db")
    try:
        stored = store.get(f"refresh_tokens/{rid}").data
    finally:
        store.close()
    text = repr(stored)
    assert rotated["refresh_token"].split(".")[1] not in text and rotated["access_token"] not in text
    assert stored["used"] is True and isinstance(stored["successor"], str)

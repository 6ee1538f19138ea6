"""nexus_model_watch fed hostile and careless events on the real local bus (decision 0102): a malformed
event fails its delivery (counted, retried, dead-lettered) and changes nothing; an event acts only for
the tenant env it is about; a duplicate or an older rev starts nothing; a re-embed whose worker died
resumes where it stopped, and one that never finishes is given up with the old index still serving."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.localrun.manifest import REPO
from studio.nexus import index_state, paths, reembed
from studio.nexus.runtime_model import MalformedRuntimeConfigEvent, run_id_for
from studio.nexus.services import nexus_services
from studio.ports.store import Query
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform

TOPIC, SUB = "domain.runtime_config", "fn-nexus_model_watch"
MINILM, HASHING = "minilm-l6-int8", "hashing-384"
GUIDE = """# Guide

## Colours

The primary palette is ultramarine blue with a coral accent.

## Typography

Headlines use Inter Tight at 700; body copy uses Source Serif.

## Logo

Keep clear space around the logo equal to the height of the letter S.
"""


def _ingest(c: httpx.Client, platform: RunningPlatform, h: dict[str, str]) -> None:
    r = c.post("/nexus/raw", json={"title": "Guide", "format": "markdown", "content": GUIDE}, headers=h)
    assert r.status_code == 202, r.text
    platform.drain()


def _event(tenant: str, data: Any, **over: Any) -> dict[str, Any]:
    return {"id": "ev_forged", "type": "runtime_config.changed", "tenant_id": tenant, "env": "dev",
            "subject": f"tenants/{tenant}/envs/dev/runtime_config/current", "time": "2026-01-01T00:00:00Z",
            "data": data, **over}


def _runs(c: httpx.Client, h: dict[str, str]) -> list[dict[str, Any]]:
    return list(c.get("/nexus/runs", params={"kind": "reembed"}, headers=h).json()["runs"])


def _search_model(c: httpx.Client, h: dict[str, str]) -> str:
    r = c.get("/nexus/search", params={"q": "coral accent", "mode": "vector"}, headers=h)
    assert r.status_code == 200 and r.json()["results"], r.text
    return str(r.json()["model"])


def _settle(platform: RunningPlatform, until: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "the bus did not settle"
        platform.drain()
        time.sleep(0.05)


def test_malformed_events_fail_their_delivery_and_change_nothing(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h)
    victim_owner = new_user(client, "victim")
    victim = new_tenant(client, victim_owner, "Victim")
    choice = {"provider": "local", "model": HASHING}
    forged: list[Any] = [
        [1, 2],  # not an object
        _event(tenant, {"embeddings": choice}),  # no rev
        _event(tenant, {"rev": "7", "embeddings": choice}),
        _event(tenant, {"rev": True, "embeddings": choice}),
        _event(tenant, {"rev": 7.0, "embeddings": choice}),
        _event(tenant, {"rev": 1 << 80, "embeddings": choice}),  # would make every later change stale
        _event(tenant, {"rev": 0, "embeddings": choice}),
        _event(tenant, {"rev": -3, "embeddings": choice}),
        _event(tenant, {"rev": 7, "embeddings": "hashing-384"}),
        _event(tenant, {"rev": 7, "embeddings": {"provider": 5, "model": HASHING}}),
        _event(tenant, {"rev": 7, "embeddings": {"provider": "local", "model": "x" * 10_000}}),
        _event(tenant, {"rev": 7, "embeddings": {"provider": "local", "model": "hash\ning"}}),
        _event(tenant, None),
        _event("../" + victim, {"rev": 7, "embeddings": choice}),
        _event(f"{victim}/envs/dev/nexus_meta/runtime_config/x", {"rev": 7, "embeddings": choice}),
        _event(tenant, {"rev": 7, "embeddings": choice}, env="../prod"),
        # an event about the victim's configuration that names my tenant, and the other way round
        _event(tenant, {"rev": 7, "embeddings": choice}, subject=f"tenants/{victim}/envs/dev/runtime_config/current"),
        _event(victim, {"rev": 7, "embeddings": choice}, subject=f"tenants/{tenant}/envs/dev/runtime_config/current"),
    ]
    delivery = platform.platform.delivery
    failed_before = delivery.counters["nexus_model_watch.failed"]
    dead_before = len(platform.deps.bus.dead_letters(SUB))
    for body in forged:
        platform.deps.bus.publish(TOPIC, json.dumps(body).encode(), {"type": "runtime_config.changed"})
    platform.deps.bus.publish(TOPIC, b'{"type": "runtime_config.changed", "data": {"rev": NaN}}', {})
    expected = len(forged) + 1
    _settle(platform, lambda: len(platform.deps.bus.dead_letters(SUB)) - dead_before >= expected)
    assert len(platform.deps.bus.dead_letters(SUB)) - dead_before == expected  # none acked away
    assert delivery.counters["nexus_model_watch.failed"] - failed_before >= expected * 5  # every attempt counted
    store = platform.deps.store
    for t in (tenant, victim):
        assert store.get(paths.runtime_model(t, "dev")) is None  # nothing followed, nothing made stale
    assert _runs(client, h) == [] and _search_model(client, h) == MINILM
    # the follower's own door says why
    follower = nexus_services(platform.deps).follower
    with pytest.raises(MalformedRuntimeConfigEvent):
        follower.on_event(_event(tenant, {"rev": 1 << 80, "embeddings": choice}))
    # and a well-formed event after all that still applies
    assert follower.on_event(_event(tenant, {"rev": 7, "embeddings": choice})) == "started"


def test_an_event_acts_for_its_tenant_only_once_and_never_backwards(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h)
    other_owner = new_user(client, "other")
    other = new_tenant(client, other_owner, "Other")
    oh = other_owner.in_tenant(other)
    _ingest(client, platform, oh)
    follower = nexus_services(platform.deps).follower
    assert follower.on_event(_event(other, {"rev": 5, "embeddings": {"provider": "local", "model": HASHING}})) \
        == "started"
    platform.drain()
    assert _search_model(client, oh) == HASHING and [r["status"] for r in _runs(client, oh)] == ["done"]
    assert _search_model(client, h) == MINILM and _runs(client, h) == []  # my tenant: untouched
    # a duplicate, and an older rev that would move it back: stale, nothing started
    assert follower.on_event(_event(other, {"rev": 5, "embeddings": {"provider": "local", "model": HASHING}})) == "stale"
    assert follower.on_event(_event(other, {"rev": 4, "embeddings": {"provider": "local", "model": MINILM}})) == "stale"
    # a model nobody offers: a failed run saying why, the index as it was
    assert follower.on_event(_event(other, {"rev": 6, "embeddings": {"provider": "local", "model": "no-such"}})) \
        == "refused"
    platform.drain()
    runs = _runs(client, oh)
    assert [r["status"] for r in runs] == ["failed", "done"] and "no-such" in runs[0]["error"]
    assert _search_model(client, oh) == HASHING


def test_a_reembed_whose_worker_died_resumes_where_it_stopped(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    """What a kill -9 mid-run leaves: the run counted one start and some cards carry the new model's vector
    (written page by page). The redelivery fills only the rest, then flips; search answered all along."""
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h)
    services = nexus_services(platform.deps)
    assert services.follower.on_event(_event(tenant, {"rev": 3, "embeddings": {"provider": "local", "model": HASHING}})) \
        == "started"
    store = platform.deps.store
    run_id = run_id_for(tenant, "dev", 3)
    state = index_state.read(store, tenant, "dev", MINILM)
    cards = store.query(Query(paths.cards(tenant, "dev"), limit=100)).docs
    assert len(cards) >= 3 and state.pending_model == HASHING
    store.run_transaction(lambda tx: reembed._start(tx, tenant, "dev", run_id))  # noqa: SLF001 - the dead start
    services.reembed._fill(cards[:2], HASHING, state.pending_slot)  # noqa: SLF001 - its first page, then the kill
    assert _search_model(client, h) == MINILM  # the old index serves
    platform.drain()  # the bus redelivers the run
    run = next(r for r in _runs(client, h) if r["id"] == run_id)
    assert run["status"] == "done" and run["counts"]["embedded"] == len(cards) - 2  # resumed, not redone
    assert _search_model(client, h) == HASHING


def test_a_reembed_that_never_finishes_is_given_up_and_the_old_index_keeps_serving(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    """Every start killed: the run record is all they leave. Past reembed.ATTEMPTS starts the next delivery
    gives it up (failed, saying so), the pending model is cleared, and the tenant can choose again."""
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h)
    services = nexus_services(platform.deps)
    services.follower.on_event(_event(tenant, {"rev": 3, "embeddings": {"provider": "local", "model": HASHING}}))
    store = platform.deps.store
    run_id = run_id_for(tenant, "dev", 3)
    for _ in range(reembed.ATTEMPTS):  # the starts that were killed before their first page
        store.run_transaction(lambda tx: reembed._start(tx, tenant, "dev", run_id))  # noqa: SLF001
    platform.drain()
    run = next(r for r in _runs(client, h) if r["id"] == run_id)
    assert run["status"] == "failed" and f"in {reembed.ATTEMPTS} attempts" in run["error"], run
    settings = client.get("/nexus/settings", headers=h).json()["model"]
    assert settings["active_model"] == MINILM and settings["pending_model"] is None
    assert _search_model(client, h) == MINILM
    # not stuck: choosing again starts a new run, which finishes
    section = client.get("/nexus/settings", headers=h).json()["model"]
    again = client.put("/nexus/settings/model", json={"model": HASHING, "base_rev": section["rev"]}, headers=h)
    assert again.status_code == 200 and again.json()["pending_model"] == HASHING, again.text
    platform.drain()
    assert _search_model(client, h) == HASHING


INGEST_SUB = "fn-nexus_ingest"


@pytest.fixture()
def short_ack(platform: RunningPlatform, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A killed worker's message comes back after 3 s, not 30 (restored afterwards)."""
    monkeypatch.setenv("STUDIO_BUS_ACK_DEADLINE_S", "3")  # the worker process declares the subscription too
    bus = platform.deps.bus
    bus.subscribe(INGEST_SUB, "nexus.ingest", max_attempts=5, ack_deadline_s=3, dead_letter_topic="nexus.ingest.dead-letter")
    yield
    bus.subscribe(INGEST_SUB, "nexus.ingest", max_attempts=5, ack_deadline_s=platform.deps.settings.bus_ack_deadline_s,
                  dead_letter_topic="nexus.ingest.dead-letter")


def _many_sections(first: int, count: int) -> str:
    return "\n\n".join(f"## Topic {i}\n\nTopic {i} covers the coral accent number {i} and how the logo sits "
                       f"beside it on page {i}." for i in range(first, first + count))


@pytest.mark.slow
@pytest.mark.usefixtures("short_ack")
def test_a_reembed_worker_killed_mid_run_resumes_and_the_old_index_serves(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    """A real kill -9: another instance of nexus_ingest (infra.localrun.event_worker) takes the re-embed and is
    killed once some pages are in. Search answers from the old model throughout; the bus hands the run back
    after its ack deadline and this instance finishes only the cards the dead one had not filled."""
    h = owner.in_tenant(tenant)
    r = client.put("/nexus/settings/model", json={"model": HASHING, "base_rev": 0}, headers=h)
    assert r.status_code == 200, r.text
    platform.drain()
    for first in (0, 150):  # ~300 cards, embedded with the fast hashing model
        c = client.post("/nexus/raw", json={"title": f"Topics {first}", "format": "markdown",
                                            "content": _many_sections(first, 150)}, headers=h)
        assert c.status_code == 202, c.text
    platform.drain()
    store = platform.deps.store
    cards = store.query(Query(paths.cards(tenant, "dev"), limit=1000)).docs
    assert len(cards) >= 200, len(cards)
    assert client.put("/runtime-config", json={"embeddings": {"provider": "local", "model": MINILM}, "base_rev": 0},
                      headers=h).status_code == 200
    delivery = platform.platform.delivery
    for _ in range(3):  # the model watch runs here; the re-embed it queues is left for the other instance
        delivery.relay_outbox()
        for d in platform.deps.bus.pull(SUB, 10):
            delivery._handle(*delivery._handlers[SUB], d)  # noqa: SLF001
    state = index_state.read(store, tenant, "dev", MINILM)
    assert state.pending_model == MINILM and state.reembed_run is not None
    run_id, slot = state.reembed_run, str(state.pending_slot)

    def filled() -> int:
        return sum(1 for d in store.query(Query(paths.cards(tenant, "dev"), limit=1000)).docs
                   if (d.data.get("emb") or {}).get(slot) == MINILM)

    env = {**os.environ, "STUDIO_DATA_DIR": str(platform.deps.settings.data_dir), "STUDIO_LLM": "echo",
           "STUDIO_PUBLIC_URL": platform.base_url}
    victim = subprocess.Popen([sys.executable, "-m", "infra.localrun.event_worker", "nexus_ingest"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert victim.stdout is not None and b"event worker" in victim.stdout.readline()
        victim.stdout.close()
        deadline = time.monotonic() + 120
        while filled() == 0:
            assert time.monotonic() < deadline, "the other instance never filled a page"
            assert _search_model(client, h) == HASHING  # the old index serves meanwhile
            time.sleep(0.02)
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=10)
    at_kill = filled()
    assert 0 < at_kill < len(cards), (at_kill, len(cards))  # killed mid-run
    run = store.get(paths.run(tenant, "dev", run_id))
    assert run is not None and run.data["status"] == "running" and run.data["attempts"] == 1
    assert _search_model(client, h) == HASHING
    _settle(platform, lambda: (store.get(paths.run(tenant, "dev", run_id)) or run).data["status"] == "done", 60)
    done = store.get(paths.run(tenant, "dev", run_id))
    assert done is not None and done.data["attempts"] == 2
    assert done.data["counts"]["embedded"] == len(cards) - at_kill  # resumed: the dead instance's pages kept
    assert _search_model(client, h) == MINILM and filled() == len(cards)

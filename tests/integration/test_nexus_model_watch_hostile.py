"""nexus_model_watch fed hostile and careless events on the real local bus (decision 0102): a malformed
event fails its delivery (counted, retried, dead-lettered) and changes nothing; an event acts only for
the tenant env it is about; a duplicate or an older rev starts nothing; a re-embed whose worker died
resumes where it stopped, and one that never finishes is given up with the old index still serving."""
from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

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

"""Nexus follows the runtime configuration's embeddings model, end to end on the local bus: PUT /runtime-config
with another model -> runtime_config.changed on domain.runtime_config -> nexus_model_watch starts a re-embed ->
nexus_ingest fills the other vector slot and flips it -> search uses the new model, and answers all along.
A redelivered event starts nothing; a change that leaves the embeddings alone does nothing; a model this
deployment does not offer is a failed run saying why; another tenant's index is untouched."""
from __future__ import annotations

import httpx
import pytest

from studio.kernel import errors
from studio.nexus.runtime_model import run_id_for
from studio.nexus.services import nexus_services
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform

GUIDE = """# Brand guide

Our studio writes in a warm, direct voice. Sentences are short and verbs are active.

## Colours

The primary palette is ultramarine blue (#1d3cff) with a coral accent. Never put coral text on blue.

## Typography

Headlines use Inter Tight at 700; body copy uses Source Serif at 400 with generous leading.

## Logo

Keep clear space around the logo equal to the height of the letter S. Do not rotate or recolour it.
"""
MINILM, HASHING = "minilm-l6-int8", "hashing-384"


def _ingest(c: httpx.Client, platform: RunningPlatform, h: dict[str, str], content: str) -> None:
    r = c.post("/nexus/raw", json={"title": "Brand guide", "format": "markdown", "content": content}, headers=h)
    assert r.status_code == 202, r.text
    platform.drain()


def _vector_search(c: httpx.Client, h: dict[str, str], q: str) -> dict:
    r = c.get("/nexus/search", params={"q": q, "mode": "vector"}, headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _put_config(c: httpx.Client, h: dict[str, str], embeddings: dict | None, base_rev: int, **more: object) -> int:
    r = c.put("/runtime-config", json={"embeddings": embeddings, "base_rev": base_rev, **more}, headers=h)
    assert r.status_code == 200, r.text
    return int(r.json()["rev"])


def _reembed_runs(c: httpx.Client, h: dict[str, str]) -> list[dict]:
    return list(c.get("/nexus/runs", params={"kind": "reembed"}, headers=h).json()["runs"])


def test_a_new_embeddings_model_reembeds_in_the_background_while_search_answers(
        client: httpx.Client, platform: RunningPlatform, owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h, GUIDE)
    other = new_user(client, "other")
    other_tenant = new_tenant(client, other, "Other")
    oh = other.in_tenant(other_tenant)
    _ingest(client, platform, oh, GUIDE)
    assert _vector_search(client, h, "typography")["model"] == MINILM

    rev = _put_config(client, h, {"provider": "local", "model": HASHING}, 0)
    settings = client.get("/nexus/settings", headers=h).json()["model"]
    assert settings["active_model"] == MINILM and settings["pending_model"] is None  # nothing until delivered

    # Deliver step by step (relay the outbox, hand each subscription its messages), searching after each
    # step: every search answers, with the old model until the flip and the new one after it.
    delivery, states = platform.platform.delivery, []
    while delivery.relay_outbox() + delivery.deliver_once():
        found = _vector_search(client, h, "coral accent palette")
        assert found["results"] and "Colours" in found["results"][0]["title"], found
        model = client.get("/nexus/settings", headers=h).json()["model"]
        states.append((model["active_model"], model["pending_model"], found["model"]))
    assert (MINILM, HASHING, MINILM) in states  # re-embedding: the old index serves
    assert states[-1] == (HASHING, None, HASHING)  # flipped
    assert states.index((MINILM, HASHING, MINILM)) < states.index((HASHING, None, HASHING))

    settings = client.get("/nexus/settings", headers=h).json()["model"]
    assert settings["active_model"] == HASHING and settings["pending_model"] is None
    assert settings["model"] == HASHING  # the model section says what was chosen last
    runs = _reembed_runs(client, h)
    assert len(runs) == 1 and runs[0]["id"] == run_id_for(tenant, "dev", rev)
    assert runs[0]["status"] == "done" and runs[0]["model"] == HASHING and runs[0]["counts"]["embedded"] == 4
    found = _vector_search(client, h, "coral accent palette")
    assert found["model"] == HASHING and "Colours" in found["results"][0]["title"]

    # the other tenant's index is untouched
    assert _vector_search(client, oh, "coral accent palette")["model"] == MINILM and _reembed_runs(client, oh) == []

    # a second message for the same rev starts nothing
    follower = nexus_services(platform.deps).follower
    assert follower.on_changed(tenant, "dev", {"rev": rev, "embeddings": {"provider": "local", "model": HASHING}}) \
        == "stale"
    # a change of the agents' models leaves the embeddings (and the index) alone
    rev = _put_config(client, h, {"provider": "local", "model": HASHING}, rev, agents={"muse": {"provider": "echo"}})
    platform.drain()
    assert len(_reembed_runs(client, h)) == 1
    # a model this deployment does not offer, or another provider: a failed run says why; the index stays
    rev = _put_config(client, h, {"provider": "local", "model": "gpt-9"}, rev)
    platform.drain()
    failed = _reembed_runs(client, h)[0]
    assert failed["status"] == "failed" and "gpt-9" in failed["error"] and failed["id"] == run_id_for(tenant, "dev", rev)
    rev = _put_config(client, h, {"provider": "openai", "model": "text-embedding-3-small"}, rev)
    platform.drain()
    assert "not openai" in _reembed_runs(client, h)[0]["error"]
    assert _vector_search(client, h, "logo")["model"] == HASHING
    # null: no preference from the runtime configuration; the index keeps its model
    rev = _put_config(client, h, None, rev)
    platform.drain()
    assert len(_reembed_runs(client, h)) == 3 and _vector_search(client, h, "logo")["model"] == HASHING
    # back to MiniLM (model null: the deployment's default)
    _put_config(client, h, {"provider": "local", "model": None}, rev)
    platform.drain()
    assert _reembed_runs(client, h)[0]["status"] == "done"
    assert _vector_search(client, h, "which fonts should headings use?")["model"] == MINILM


def test_a_change_waits_while_the_index_moves_to_another_model(client: httpx.Client, platform: RunningPlatform,
                                                               owner: User, tenant: str) -> None:
    h = owner.in_tenant(tenant)
    _ingest(client, platform, h, GUIDE)
    r = client.put("/nexus/settings/model", json={"model": HASHING, "base_rev": 0}, headers=h)
    assert r.status_code == 200 and r.json()["pending_model"] == HASHING
    follower = nexus_services(platform.deps).follower
    change = {"rev": 7, "embeddings": {"provider": "local", "model": MINILM}}
    with pytest.raises(errors.Unavailable):  # the bus delivers it again later; nothing is recorded meanwhile
        follower.on_changed(tenant, "dev", change)
    platform.drain()  # the settings' re-embed finishes: the index is on hashing now
    assert client.get("/nexus/settings", headers=h).json()["model"]["active_model"] == HASHING
    assert follower.on_changed(tenant, "dev", change) == "started"
    assert follower.on_changed(tenant, "dev", change) == "stale"
    platform.drain()
    assert client.get("/nexus/settings", headers=h).json()["model"]["active_model"] == MINILM
    assert [run["status"] for run in _reembed_runs(client, h)] == ["done", "done"]

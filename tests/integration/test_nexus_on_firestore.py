"""Nexus on the Google Cloud adapters' store and index: Google's Firestore emulator holds the documents,
cards carry their embeddings as Vector values, and vector search is Firestore's ``find_nearest``.
Ingest -> atoms -> cards -> search in the three modes, a delete cascading to the index, and tenant
isolation, through the same services the HTTP routes call. Skipped, with the reason printed, where the
emulator or Java is missing."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from studio.adapters.firestore_store import FirestoreStore
from studio.adapters.firestore_vectors import FirestoreVectorIndex
from studio.adapters.local_blobs import LocalBlobStore
from studio.adapters.local_embeddings import LocalEmbedder
from studio.adapters.sqlite_bus import SqliteBus
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.nexus import paths as nexus_paths
from studio.nexus.cards import CardService
from studio.nexus.ingest import IngestWorker
from studio.nexus.keyword import KeywordIndex
from studio.nexus.raw_docs import RawDocService
from studio.nexus.reembed import ReembedWorker
from studio.nexus.runtime_model import RuntimeModelFollower
from studio.nexus.search import SearchService
from studio.nexus.settings import SettingsService
from tests.support.firestore_emulator import FirestoreEmulator, emulator_session

pytestmark = pytest.mark.emulator
PROJECT = "demo-nexus"
GUIDE = """# Brand guide

## Colours

The primary palette is ultramarine blue with a coral accent.

## Typography

Headlines use Inter Tight at 700; body copy uses Source Serif.

## Logo

Keep clear space around the logo equal to the height of the letter S.
"""


@pytest.fixture(scope="session")
def firestore_emulator(pytestconfig: pytest.Config) -> Iterator[FirestoreEmulator]:
    yield from emulator_session(pytestconfig)


@pytest.fixture()
def nexus(firestore_emulator: FirestoreEmulator, tmp_path: Any) -> Iterator[dict[str, Any]]:
    firestore_emulator.wipe(PROJECT)
    client = firestore_emulator.client(PROJECT)
    store = FirestoreStore(PROJECT, client=client)
    embedder = LocalEmbedder()
    settings = SettingsService(store, embedder)
    vectors = FirestoreVectorIndex(lambda: client)
    yield {"store": store, "raw": RawDocService(store, embedder, LocalBlobStore(tmp_path / "blobs", base_url="http://127.0.0.1:9",
                                                                   signing_key=b"k" * 32)), "cards": CardService(store, embedder),
           "ingest": IngestWorker(store, SqliteBus(tmp_path / "bus.db"), embedder, settings),
           "search": SearchService(store, embedder, vectors, KeywordIndex(store), settings), "vectors": vectors,
           "follower": RuntimeModelFollower(store, embedder, settings),
           "reembed": ReembedWorker(store, SqliteBus(tmp_path / "bus.db"), embedder)}
    client.close()


def _ctx(tenant: str) -> RequestContext:
    return RequestContext(tenant, "dev", Principal("u_1"), Role.OWNER)


def test_ingest_atoms_cards_and_search_with_find_nearest(nexus: dict[str, Any]) -> None:
    ctx = _ctx("t_alpha")
    doc = nexus["raw"].submit(ctx, "Brand guide", "markdown", GUIDE, ["brand"])
    counts = nexus["ingest"].ingest(ctx.tenant_id, ctx.env, doc["id"], doc["run_id"])
    assert counts is not None and counts["atoms"] == 4
    stored = nexus["raw"].get(ctx, doc["id"])
    assert stored["status"] == "ready" and [a["heading"] for a in stored["atom_list"]][-1] == "Brand guide > Logo"

    vector = nexus["search"].search(ctx, "which fonts do headings use", 3, "vector")
    assert "Typography" in vector["results"][0]["title"] and vector["results"][0]["scores"]["vector"] > 0.2
    assert nexus["search"].search(ctx, "ultramarine", 5, "keyword")["results"][0]["title"].endswith("Colours")
    hybrid = nexus["search"].search(ctx, "logo clear space", 3, "hybrid", ["brand"])["results"]
    assert hybrid[0]["title"].endswith("Logo") and hybrid[0]["provenance"]["source"]["doc_id"] == doc["id"]
    # find_nearest with the tags pre-filter (its own vector index): none carry "other"
    assert nexus["search"].search(ctx, "logo", 3, "vector", ["other"])["results"] == []

    rev = nexus["raw"].current_rev(ctx, doc["id"])
    nexus["raw"].delete(ctx, doc["id"], rev)
    for mode in ("keyword", "vector", "hybrid"):
        assert nexus["search"].search(ctx, "logo clear space", 3, mode)["results"] == []


def test_a_query_never_returns_another_tenants_card_on_firestore(nexus: dict[str, Any]) -> None:
    alpha, beta = _ctx("t_alpha"), _ctx("t_beta")
    card = nexus["cards"].create_many(alpha, [("Secret recipe", "Cardamom and smoked salt.", [])],
                                      {"kind": "person", "id": "u_1"})[0]
    nexus["cards"].create_many(beta, [("Weather", "Rain tomorrow afternoon.", [])], {"kind": "person", "id": "u_2"})
    for mode in ("keyword", "vector", "hybrid"):
        found = nexus["search"].search(beta, "cardamom smoked salt recipe", 5, mode)["results"]
        assert card["id"] not in {r["card_id"] for r in found}
        assert nexus["search"].search(alpha, "cardamom smoked salt recipe", 5, mode)["results"][0]["card_id"] == card["id"]


def test_following_the_runtime_configurations_model_on_firestore(nexus: dict[str, Any]) -> None:
    """The follower's one transaction (reads first: Firestore buffers the writes) on the emulator: a change
    starts one re-embed, a redelivery nothing; the flip moves search to the new model."""
    ctx = _ctx("t_alpha")
    doc = nexus["raw"].submit(ctx, "Brand guide", "markdown", GUIDE, [])
    nexus["ingest"].ingest(ctx.tenant_id, ctx.env, doc["id"], doc["run_id"])
    change = {"rev": 3, "embeddings": {"provider": "local", "model": "hashing-384"}}
    assert nexus["follower"].on_changed(ctx.tenant_id, ctx.env, change) == "started"
    assert nexus["follower"].on_changed(ctx.tenant_id, ctx.env, change) == "stale"
    assert nexus["search"].search(ctx, "typography", 3, "vector")["model"] == "minilm-l6-int8"  # old index serves
    state = nexus["store"].get(nexus_paths.index_state(ctx.tenant_id, ctx.env)).data
    assert state["pending_model"] == "hashing-384"
    assert nexus["reembed"].run(ctx.tenant_id, ctx.env, state["reembed_run"]) == {"embedded": 4}
    found = nexus["search"].search(ctx, "coral accent palette", 3, "vector")
    assert found["model"] == "hashing-384" and found["results"][0]["title"].endswith("Colours")

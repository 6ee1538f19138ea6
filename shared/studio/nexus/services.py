"""Builds Nexus's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.kernel.deps import Deps, Slot
from studio.nexus.cards import CardService
from studio.nexus.explorer import ExplorerService
from studio.nexus.ingest import IngestWorker
from studio.nexus.keyword import KeywordIndex
from studio.nexus.memory import MemoryService
from studio.nexus.packs import PackService
from studio.nexus.raw_docs import RawDocService
from studio.nexus.reembed import ReembedWorker
from studio.nexus.runs import RunService
from studio.nexus.runtime_model import RuntimeModelFollower
from studio.nexus.search import SearchService
from studio.nexus.settings import SettingsService


@dataclass(frozen=True)
class NexusServices:
    raw: RawDocService
    cards: CardService
    search: SearchService
    settings: SettingsService
    runs: RunService
    memory: MemoryService
    explorer: ExplorerService
    packs: PackService
    ingest: IngestWorker
    reembed: ReembedWorker
    follower: RuntimeModelFollower


NEXUS: Slot[NexusServices] = Slot("nexus")


def nexus_services(deps: Deps) -> NexusServices:
    def build() -> NexusServices:
        store, embedder = deps.store, deps.embeddings
        settings = SettingsService(store, embedder)
        memory = MemoryService(store)
        search = SearchService(store, embedder, deps.vectors, KeywordIndex(store), settings)
        return NexusServices(RawDocService(store, embedder, deps.blobs), CardService(store, embedder), search, settings,
                             RunService(store), memory, ExplorerService(store, embedder), PackService(search, memory),
                             IngestWorker(store, deps.bus, embedder, settings), ReembedWorker(store, deps.bus, embedder),
                             RuntimeModelFollower(store, embedder, settings))

    return deps.memo(NEXUS, build)

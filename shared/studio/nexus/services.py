"""Builds Nexus's services from the ports, once per instance."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

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
T = TypeVar("T")


class _OnFirstUse:
    """A port opened the first time one of its attributes is read: every Nexus service is built together,
    but listing raw documents (the function's first GET) needs only the store, not the embedder, the
    vector index, the blob store (and its signing key) or the bus (cold start, decision 0097)."""

    __slots__ = ("_open",)

    def __init__(self, open_port: Callable[[], Any]) -> None:
        self._open = open_port

    def __getattr__(self, name: str) -> Any:
        return getattr(self._open(), name)  # deps memoises the port: opened once


def _later(open_port: Callable[[], T]) -> T:
    return cast(T, _OnFirstUse(open_port))


def nexus_services(deps: Deps) -> NexusServices:
    def build() -> NexusServices:
        store, embedder = deps.store, _later(lambda: deps.embeddings)
        blobs, bus, vectors = _later(lambda: deps.blobs), _later(lambda: deps.bus), _later(lambda: deps.vectors)
        settings = SettingsService(store, embedder)
        memory = MemoryService(store)
        search = SearchService(store, embedder, vectors, KeywordIndex(store), settings)
        return NexusServices(RawDocService(store, embedder, blobs), CardService(store, embedder), search, settings,
                             RunService(store), memory, ExplorerService(store, embedder), PackService(search, memory),
                             IngestWorker(store, bus, embedder, settings), ReembedWorker(store, bus, embedder),
                             RuntimeModelFollower(store, embedder, settings))

    return deps.memo(NEXUS, build)

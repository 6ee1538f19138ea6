"""What a handler may ask of its instance's dependencies: the ports, the settings, and a memo for the
services a domain builds from them. ``studio.bootstrap.Deps`` is the one implementation (it chooses the
adapters); the kernel and the domains see only this protocol, so they never import the composition root.

A domain memoises its service bundle under a ``Slot`` declared once, next to the function that builds it::

    CHAT: Slot[ChatServices] = Slot("chat")

    def chat_services(deps: Deps) -> ChatServices:
        return deps.memo(CHAT, lambda: ChatServices(ThreadService(deps.store), MessageService(deps.store)))

A slot is its own key (compared by identity, never by name), so two services cannot share a cache entry
by a typo, and its type parameter is what ``memo`` returns.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # annotations only: the configuration sits above the kernel, which may not import it
    from studio.config import Settings
    from studio.kernel.context import MembershipReader, SessionReader, TokenVerifier
    from studio.kernel.ratelimit import RateLimiter
    from studio.ports.analytics import AnalyticsStore
    from studio.ports.blobs import BlobStore
    from studio.ports.broker import Broker
    from studio.ports.bus import Bus
    from studio.ports.embeddings import Embedder
    from studio.ports.llm import LlmProvider
    from studio.ports.mailer import Mailer
    from studio.ports.secrets import SecretStore
    from studio.ports.store import DocumentStore
    from studio.ports.vectors import VectorIndex

T = TypeVar("T")


class Slot(Generic[T]):
    """The key of one memoised object of type ``T``. Equal only to itself: the name is for reading."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class Deps(Protocol):
    """The instance's ports, built on first use. Read-only properties, so an implementation may
    return a more specific type (the bootstrap's ``memberships`` is the identity domain's repository)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> DocumentStore: ...

    @property
    def bus(self) -> Bus: ...

    @property
    def broker(self) -> Broker | None:
        """The realtime broker's hints and presence (decision 0075); None when not configured."""
        ...

    @property
    def blobs(self) -> BlobStore: ...

    @property
    def secrets(self) -> SecretStore: ...

    @property
    def llm(self) -> LlmProvider: ...

    @property
    def analytics(self) -> AnalyticsStore: ...

    @property
    def mailer(self) -> Mailer: ...

    @property
    def embeddings(self) -> Embedder: ...

    @property
    def vectors(self) -> VectorIndex: ...

    @property
    def verifier(self) -> TokenVerifier: ...

    @property
    def memberships(self) -> MembershipReader: ...

    @property
    def sessions(self) -> SessionReader: ...

    @property
    def rate_limiter(self) -> RateLimiter: ...

    def memo(self, slot: Slot[T], build: Callable[[], T]) -> T:
        """The object stored under ``slot``, built by ``build`` on first use (once per instance)."""
        ...

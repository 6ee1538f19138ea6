"""The one place adapters are chosen from configuration (the composition root).

Everything is built on first use and cached per instance: a cold start pays only for
what its first request touches, and a Google client is never imported by a function
running on embedded adapters.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from studio.config import Settings
from studio.kernel.deps import Slot
from studio.kernel.ratelimit import RateLimiter

if TYPE_CHECKING:
    from studio.identity.memberships import MembershipRepo
    from studio.identity.sessions import SessionRepo
    from studio.identity.signing_keys import KeyRing
    from studio.kernel import deps as kernel_deps
    from studio.kernel.context import TokenVerifier
    from studio.ports.analytics import AnalyticsStore
    from studio.ports.blobs import BlobStore
    from studio.ports.broker import Broker
    from studio.ports.bus import Bus
    from studio.ports.claims import CustomClaims
    from studio.ports.embeddings import Embedder
    from studio.ports.llm import LlmProvider
    from studio.ports.mailer import Mailer
    from studio.ports.secrets import SecretStore
    from studio.ports.store import DocumentStore
    from studio.ports.vectors import VectorIndex

T = TypeVar("T")

# The ports' memo slots. Public: a caller may provide a port before its first use (bench/gcp_cold_start.py
# hands the store a client bound to an emulator).
STORE: Slot[DocumentStore] = Slot("store")
BUS: Slot[Bus] = Slot("bus")
SECRETS: Slot[SecretStore] = Slot("secrets")
BLOBS: Slot[BlobStore] = Slot("blobs")
LLM: Slot[LlmProvider] = Slot("llm")
MAILER: Slot[Mailer] = Slot("mailer")
CLAIMS: Slot[CustomClaims] = Slot("claims")
ANALYTICS: Slot[AnalyticsStore] = Slot("analytics")
VERIFIER: Slot[TokenVerifier] = Slot("verifier")
RATE_LIMITER: Slot[RateLimiter] = Slot("rate_limiter")
EMBEDDINGS: Slot[Embedder] = Slot("embeddings")
VECTORS: Slot[VectorIndex] = Slot("vectors")
BROKER: Slot[Broker | None] = Slot("broker")


class Deps:
    """studio.kernel.deps.Deps, with the adapters chosen by the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._memo: dict[Slot[Any], Any] = {}

    def memo(self, slot: Slot[T], build: Callable[[], T]) -> T:
        if slot not in self._memo:  # the hot path takes no lock
            with self._lock:  # re-entrant: a build may ask for another port
                if slot not in self._memo:
                    self._memo[slot] = build()
        value: T = self._memo[slot]  # stored under a Slot[T] by this method only
        return value

    # -- ports -------------------------------------------------------------
    @property
    def store(self) -> DocumentStore:
        def build() -> DocumentStore:
            if self.settings.store == "gcp":
                from studio.adapters.firestore_store import FirestoreStore

                return FirestoreStore(self.settings.project, self.settings.firestore_database)
            from studio.adapters.sqlite_store import SqliteStore

            return SqliteStore(self.settings.data_dir / "store.db", wake=self.settings.cross_process_wake)

        return self.memo(STORE, build)

    @property
    def bus(self) -> Bus:
        def build() -> Bus:
            if self.settings.bus == "gcp":
                from studio.adapters.pubsub_bus import PubsubBus

                return PubsubBus(self.settings.project, create_missing=self.settings.pubsub_create_missing)
            from studio.adapters.sqlite_bus import SqliteBus

            return SqliteBus(self.settings.data_dir / "bus.db", backoff_base_s=self.settings.bus_backoff_base_s,
                             wake=self.settings.cross_process_wake)

        return self.memo(BUS, build)

    @property
    def broker(self) -> Broker | None:
        """The realtime broker (decision 0075), or None: feeds then follow the store's listeners."""

        def build() -> Broker | None:
            if not self.settings.realtime_broker:
                return None
            from studio.adapters.redis_broker import RedisBroker

            return RedisBroker(self.settings.realtime_broker, ca_pem=self.settings.realtime_broker_ca)

        return self.memo(BROKER, build)

    @property
    def secrets(self) -> SecretStore:
        def build() -> SecretStore:
            if self.settings.secrets == "gcp":
                from studio.adapters.secret_manager import SecretManagerStore

                return SecretManagerStore(self.settings.project)
            from studio.adapters.local_secrets import LocalSecretStore

            return LocalSecretStore(self.settings.data_dir / "secrets.json")

        return self.memo(SECRETS, build)

    @property
    def blobs(self) -> BlobStore:
        def build() -> BlobStore:
            if self.settings.blobs == "gcp":
                from studio.adapters.gcs_blobs import GcsBlobStore

                return GcsBlobStore(self.settings.project, bucket_names=self.settings.bucket_names)
            from studio.adapters.local_blobs import LocalBlobStore

            key = self._blob_signing_key()
            return LocalBlobStore(self.settings.data_dir / "blobs", base_url=self.settings.public_url, signing_key=key)

        return self.memo(BLOBS, build)

    @property
    def analytics(self) -> AnalyticsStore:
        """The analytics events table: DuckDB in the data dir, or BigQuery (decision 0055)."""

        def build() -> AnalyticsStore:
            if self.settings.analytics == "gcp":
                from studio.adapters.bigquery_analytics import BigQueryAnalytics
                from studio.adapters.google_credentials import access_token_provider

                return BigQueryAnalytics(self.settings.project, self.settings.analytics_dataset,
                                         credentials_provider=access_token_provider())
            from studio.adapters.duckdb_analytics import DuckDbAnalytics

            return DuckDbAnalytics(self.settings.data_dir / "analytics.duckdb")

        return self.memo(ANALYTICS, build)

    def _blob_signing_key(self) -> bytes:
        import secrets as pysecrets

        from studio.kernel import errors

        try:
            return bytes(self.secrets.get("local-blob-url-signing-key"))
        except errors.NotFound:
            self.secrets.put("local-blob-url-signing-key", pysecrets.token_bytes(32))
            return bytes(self.secrets.get("local-blob-url-signing-key"))

    @property
    def llm(self) -> LlmProvider:
        """The model provider: the local model (loaded by its first reply), the echo responder (no model:
        exact text for tests), any OpenAI-compatible URL, or Gemini on Vertex AI."""

        def build() -> LlmProvider:
            s = self.settings
            if s.llm == "openai":
                from studio.adapters.openai_compatible import OpenAiCompatible

                key = self.secrets.get(s.llm_api_key_secret).decode() if s.llm_api_key_secret else ""
                return OpenAiCompatible(s.llm_base_url, model=s.llm_model or "gpt-4o-mini", api_key=key)
            if s.llm == "gemini":
                from studio.adapters.gemini_vertex import GeminiVertex

                return GeminiVertex(s.project, s.vertex_location, model=s.llm_model or "gemini-2.5-flash")
            if s.llm == "echo":
                from studio.adapters.echo_llm import EchoResponder

                return EchoResponder(token_delay_s=s.llm_token_delay_s)
            from pathlib import Path

            from studio.adapters.local_model import LocalModel

            return LocalModel(Path(s.llm_model) if s.llm_model else None, threads=s.llm_threads,
                              max_tokens=s.llm_max_tokens)

        return self.memo(LLM, build)

    @property
    def mailer(self) -> Mailer:
        def build() -> Mailer:
            if self.settings.mailer == "outbox":
                from studio.adapters.outbox_mailer import OutboxMailer

                return OutboxMailer(self.settings.data_dir / "mail_outbox")
            from studio.adapters.no_mailer import NoMailer

            return NoMailer()

        return self.memo(MAILER, build)

    @property
    def embeddings(self) -> Embedder:
        """Text embeddings: Vertex AI on Google Cloud, the offline int8 MiniLM here (loaded by its first use)."""

        def build() -> Embedder:
            if self.settings.embeddings == "vertex":
                from studio.adapters.vertex_embeddings import VertexEmbedder

                return VertexEmbedder(self.settings.project, self.settings.vertex_location)
            from studio.adapters.local_embeddings import LocalEmbedder

            return LocalEmbedder()

        return self.memo(EMBEDDINGS, build)

    @property
    def vectors(self) -> VectorIndex:
        """Nearest-neighbour search over the store's ``vec_*`` fields: Firestore's on Firestore, numpy's here."""

        def build() -> VectorIndex:
            if self.settings.store == "gcp":
                from studio.adapters.firestore_store import FirestoreStore
                from studio.adapters.firestore_vectors import FirestoreVectorIndex

                store = self.store
                if not isinstance(store, FirestoreStore):
                    raise TypeError("store=gcp without a Firestore store")
                return FirestoreVectorIndex(lambda: store.client)
            from studio.adapters.numpy_vectors import NumpyVectorIndex

            return NumpyVectorIndex(self.store)

        return self.memo(VECTORS, build)

    # -- identity: built by the identity domain, shared with the kernel (studio/identity/repos.py) --
    @property
    def keyring(self) -> KeyRing:
        from studio.identity import repos

        return repos.keyring(self)

    @property
    def verifier(self) -> TokenVerifier:
        def build() -> TokenVerifier:
            if self.settings.auth == "firebase":
                return self._firebase_verifier()
            from studio.identity.local_tokens import LocalTokenVerifier

            return LocalTokenVerifier(self.keyring, issuer=self.settings.public_url)

        return self.memo(VERIFIER, build)

    def _firebase_verifier(self) -> TokenVerifier:
        """Firebase ID tokens, with revocation checked against Identity Toolkit (emulator when set)."""
        import os

        from studio.adapters.firebase_revocation import IdentityToolkitRevocation
        from studio.adapters.firebase_tokens import EMULATOR_ENV, FirebaseTokenVerifier

        project = self.settings.firebase_project
        emulator_host = os.environ.get(EMULATOR_ENV, "")
        if emulator_host:
            revocation = IdentityToolkitRevocation.for_emulator(project, emulator_host)
        else:
            from studio.adapters.google_credentials import access_token_provider

            revocation = IdentityToolkitRevocation(project, credentials_provider=access_token_provider())
        return FirebaseTokenVerifier(project, certs_url=self.settings.firebase_certs_url, revocation=revocation,
                                     emulator=bool(emulator_host))

    @property
    def claims(self) -> CustomClaims:
        """Where the ``tenants`` custom claim is written: the Firebase accounts whose ID tokens carry it
        (Identity Toolkit; the Auth emulator when FIREBASE_AUTH_EMULATOR_HOST is set), or, for the
        built-in issuer, the store (studio/adapters/store_claims.py says why)."""

        def build() -> CustomClaims:
            if self.settings.auth == "firebase":
                import os

                from studio.adapters.firebase_claims import IdentityToolkitClaims
                from studio.adapters.firebase_tokens import EMULATOR_ENV

                project, emulator_host = self.settings.firebase_project, os.environ.get(EMULATOR_ENV, "")
                if emulator_host:
                    return IdentityToolkitClaims.for_emulator(project, emulator_host)
                from studio.adapters.google_credentials import access_token_provider

                return IdentityToolkitClaims(project, credentials_provider=access_token_provider())
            from studio.adapters.store_claims import StoreCustomClaims

            return StoreCustomClaims(self.store)

        return self.memo(CLAIMS, build)

    @property
    def memberships(self) -> MembershipRepo:
        from studio.identity import repos

        return repos.memberships(self)

    @property
    def sessions(self) -> SessionRepo:
        from studio.identity import repos

        return repos.sessions(self)

    @property
    def rate_limiter(self) -> RateLimiter:
        return self.memo(RATE_LIMITER, lambda: RateLimiter(self.settings.rate_limit_per_minute))


if TYPE_CHECKING:
    def _implements_the_kernel_protocol(deps: Deps) -> kernel_deps.Deps:
        return deps  # mypy proves every port the kernel and the domains may ask for is here, and typed


_instance: Deps | None = None
_instance_lock = threading.Lock()


def bootstrap(settings: Settings | None = None) -> Deps:
    """The instance's dependencies: one per process, shared by every function in it."""
    global _instance
    current = _instance
    if settings is None and current is not None:
        return current  # the hot path: no lock
    with _instance_lock:
        if _instance is None or (settings is not None and settings != _instance.settings):
            _instance = Deps(settings or Settings.from_env())
        return _instance


def reset() -> None:
    """Forget the instance (tests that start over with new settings)."""
    global _instance
    with _instance_lock:
        _instance = None

"""Configuration from the environment, read once. The only input to ``bootstrap``."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from studio.kernel.cors import LOOPBACK_ORIGINS, parse_origins

if TYPE_CHECKING:
    from typing_extensions import TypeIs  # typing's own from Python 3.13

Adapter = Literal["embedded", "gcp"]
Auth = Literal["local", "firebase"]


def _is_adapter(value: str) -> TypeIs[Adapter]:
    return value in ("embedded", "gcp")


def _is_auth(value: str) -> TypeIs[Auth]:
    return value in ("local", "firebase")


def _adapter(name: str, default: str) -> Adapter:
    value = os.environ.get(name, default).strip().lower()
    if not _is_adapter(value):
        raise ValueError(f"{name} must be 'embedded' or 'gcp', not {value!r}")
    return value


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> Any:
    value = os.environ.get(name, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _bounded(name: str, default: int, low: int, high: int) -> int:
    value = int(os.environ.get(name, str(default)))
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _bounded_float(name: str, default: float, low: float, high: float) -> float:
    value = float(os.environ.get(name, str(default)))
    if not low <= value <= high:  # NaN fails too
        raise ValueError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _broker_url(value: str) -> str:
    url = value.strip()
    if url and not url.startswith(("redis://", "rediss://")):
        raise ValueError(f"STUDIO_REALTIME_BROKER must be a redis:// or rediss:// URL (or empty), not {url[:40]!r}")
    return url


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".data")
    adapters: Adapter = "embedded"
    store: Adapter = "embedded"
    bus: Adapter = "embedded"
    blobs: Adapter = "embedded"
    secrets: Adapter = "embedded"
    analytics: Adapter = "embedded"  # the analytics store: DuckDB in data_dir, or BigQuery (decision 0055)
    analytics_dataset: str = "studio_analytics"  # BigQuery dataset holding the `events` table
    auth: Auth = "local"
    public_url: str = "http://127.0.0.1:8080"
    project: str = "studio-local"
    firebase_project: str = ""
    firebase_certs_url: str = "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com"
    rate_limit_per_minute: int = 1200
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 30 * 24 * 3600
    signing_key_max_age_s: int = 30 * 24 * 3600
    bus_backoff_base_s: float = 0.5
    bus_ack_deadline_s: float = 30.0
    firestore_database: str = "(default)"
    bucket_names: dict[str, str] = field(default_factory=dict)  # bucket role -> bucket (STUDIO_BUCKET_<ROLE>)
    pubsub_create_missing: bool = False  # emulator/dev only: in production Terraform owns topics
    # Embedded store and bus: wake other processes' waiters on commit (set by the local gateway fleet).
    cross_process_wake: bool = False
    # Presence and typing shared by gateway instances over the bus (realtime/fleet_presence.py).
    fleet_presence: bool = False
    presence_heartbeat_s: float = 5.0  # a dead instance's clients stop counting after 3 of these (+1)
    # The realtime broker (decision 0075): "" keeps the store's listeners (one per thread per instance);
    # redis://host:port (Memorystore for Redis / Valkey) wakes feeds by per-thread channels and holds presence.
    realtime_broker: str = ""
    realtime_broker_ca: str = ""  # PEM of the broker's TLS server CA (Memorystore's, for rediss:// URLs)
    broker_safety_poll_s: float = 30.0  # a feed re-reads its thread this often even if no hint came
    llm: Literal["local", "echo", "openai", "gemini"] = "local"  # local: a real small model; echo: no model
    llm_model: str = ""  # the provider's model; for llm=local, a GGUF file (default: the bundled SmolLM2)
    llm_base_url: str = ""  # an OpenAI-compatible endpoint, for llm=openai
    llm_api_key_secret: str = ""  # name of the secret holding the provider's key
    llm_token_delay_s: float = 0.02  # the echo responder's pace
    llm_threads: int = 0  # the local model's CPU threads; 0: half the cores, at least one
    llm_max_tokens: int = 256  # the local model's longest reply, in tokens
    vertex_location: str = "europe-west1"
    embeddings: Literal["local", "vertex"] = "local"  # Nexus: the offline int8 MiniLM, or Vertex AI
    sse_heartbeat_s: float = 15.0
    ws_ping_s: float = 20.0
    ws_idle_s: float = 60.0
    # Browser origins allowed to call the API (kernel/cors.py). Unset: any loopback port on
    # embedded adapters (a frontend dev server works at once), none on gcp (Terraform sets it).
    cors_origins: tuple[str, ...] = LOOPBACK_ORIGINS
    streams_per_user: int = 20  # open SSE + WebSocket streams per user per gateway instance
    # The gateway process's garbage collection (decision 0104): "freeze" keeps open streams out of full
    # collections (frozen after every ``gateway_gc_freeze_after`` openings, reclaimed after churn);
    # "default" leaves the interpreter's thresholds alone.
    gateway_gc: Literal["freeze", "default"] = "freeze"
    gateway_gc_freeze_after: int = 500
    # Accounts (identity): see docs/decisions/0022 and 0023.
    trusted_proxy_hops: int = 0  # X-Forwarded-For entries our own proxies append (Google's LB: 2)
    mailer: Literal["outbox", "none"] = "outbox"  # outbox: files in data_dir/mail_outbox, for the console
    login_max_failures_per_account: int = 10
    login_max_failures_per_ip: int = 100
    login_failure_window_s: int = 900
    refresh_reuse_grace_s: float = 10.0  # a consumed refresh token re-presented this soon gets the same pair
    # Tenant HTTP tools may call only public addresses; these CIDRs (or exact host names) are let through
    # besides, e.g. an internal service or a test server (studio/tools/ssrf.py, decision 0032).
    tool_url_allow: tuple[str, ...] = ()
    # Pages the audit browser may load besides public addresses (CIDRs or exact host names; decision 0064).
    audit_url_allow: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        adapters = _adapter("STUDIO_ADAPTERS", "embedded")
        auth = env.get("STUDIO_AUTH", "firebase" if adapters == "gcp" else "local")
        if not _is_auth(auth):
            raise ValueError("STUDIO_AUTH must be 'local' or 'firebase'")
        project = env.get("GOOGLE_CLOUD_PROJECT", "studio-local")
        return cls(
            data_dir=Path(env.get("STUDIO_DATA_DIR", ".data")),
            adapters=adapters,
            store=_adapter("STUDIO_STORE", adapters),
            bus=_adapter("STUDIO_BUS", adapters),
            blobs=_adapter("STUDIO_BLOBS", adapters),
            secrets=_adapter("STUDIO_SECRETS", adapters),
            analytics=_adapter("STUDIO_ANALYTICS", adapters),
            analytics_dataset=env.get("STUDIO_ANALYTICS_DATASET", "studio_analytics"),
            auth=auth,
            public_url=env.get("STUDIO_PUBLIC_URL", f"http://127.0.0.1:{env.get('PORT', '8080')}").rstrip("/"),
            project=project,
            firebase_project=env.get("FIREBASE_PROJECT_ID", project),
            rate_limit_per_minute=int(env.get("STUDIO_RATE_LIMIT_PER_MINUTE", "1200")),
            access_token_ttl_s=int(env.get("STUDIO_ACCESS_TOKEN_TTL_S", "900")),
            refresh_token_ttl_s=int(env.get("STUDIO_REFRESH_TOKEN_TTL_S", str(30 * 24 * 3600))),
            signing_key_max_age_s=int(env.get("STUDIO_SIGNING_KEY_MAX_AGE_S", str(30 * 24 * 3600))),
            bus_backoff_base_s=float(env.get("STUDIO_BUS_BACKOFF_BASE_S", "0.5")),
            bus_ack_deadline_s=float(env.get("STUDIO_BUS_ACK_DEADLINE_S", "30")),
            firestore_database=env.get("STUDIO_FIRESTORE_DATABASE", env.get("FIRESTORE_DATABASE", "(default)")),
            bucket_names={k[len("STUDIO_BUCKET_"):].lower().replace("_", "-"): v
                          for k, v in env.items() if k.startswith("STUDIO_BUCKET_") and v},
            pubsub_create_missing=env.get("STUDIO_PUBSUB_CREATE_MISSING", "") == "1",
            cross_process_wake=env.get("STUDIO_CROSS_PROCESS_WAKE", "") == "1",
            fleet_presence=env.get("STUDIO_FLEET_PRESENCE", "") == "1",
            presence_heartbeat_s=float(env.get("STUDIO_PRESENCE_HEARTBEAT_S", "5")),
            realtime_broker=_broker_url(env.get("STUDIO_REALTIME_BROKER", "")),
            realtime_broker_ca=env.get("STUDIO_REALTIME_BROKER_CA", ""),
            broker_safety_poll_s=_bounded_float("STUDIO_BROKER_SAFETY_POLL_S", 30.0, 0.05, 3600.0),
            llm=_choice("STUDIO_LLM", "gemini" if adapters == "gcp" else "local", ("local", "echo", "openai", "gemini")),
            llm_model=env.get("STUDIO_LLM_MODEL", ""),
            llm_base_url=env.get("STUDIO_LLM_BASE_URL", ""),
            llm_api_key_secret=env.get("STUDIO_LLM_API_KEY_SECRET", ""),
            llm_token_delay_s=float(env.get("STUDIO_ECHO_TOKEN_DELAY_S", "0.02")),
            llm_threads=_bounded("STUDIO_LOCAL_LLM_THREADS", 0, 0, 256),
            llm_max_tokens=_bounded("STUDIO_LOCAL_LLM_MAX_TOKENS", 256, 1, 1024),
            embeddings=_choice("STUDIO_EMBEDDINGS", "vertex" if adapters == "gcp" else "local", ("local", "vertex")),
            vertex_location=env.get("VERTEX_LOCATION", env.get("GOOGLE_CLOUD_LOCATION", "europe-west1")),
            sse_heartbeat_s=float(env.get("STUDIO_SSE_HEARTBEAT_S", "15")),
            ws_ping_s=float(env.get("STUDIO_WS_PING_S", "20")),
            ws_idle_s=float(env.get("STUDIO_WS_IDLE_S", "60")),
            cors_origins=parse_origins(env.get("STUDIO_CORS_ORIGINS",
                                               " ".join(LOOPBACK_ORIGINS) if adapters == "embedded" else "")),
            streams_per_user=int(env.get("STUDIO_STREAMS_PER_USER", "20")),
            gateway_gc=_choice("STUDIO_GATEWAY_GC", "freeze", ("freeze", "default")),
            gateway_gc_freeze_after=_bounded("STUDIO_GATEWAY_GC_FREEZE_AFTER", 500, 1, 1_000_000),
            trusted_proxy_hops=_bounded("STUDIO_TRUSTED_PROXY_HOPS", 0, 0, 10),
            mailer=_choice("STUDIO_MAILER", "none" if adapters == "gcp" else "outbox", ("outbox", "none")),
            login_max_failures_per_account=_bounded("STUDIO_LOGIN_MAX_FAILURES_PER_ACCOUNT", 10, 1, 10_000),
            login_max_failures_per_ip=_bounded("STUDIO_LOGIN_MAX_FAILURES_PER_IP", 100, 1, 10_000_000),
            login_failure_window_s=_bounded("STUDIO_LOGIN_FAILURE_WINDOW_S", 900, 1, 86_400),
            refresh_reuse_grace_s=float(env.get("STUDIO_REFRESH_REUSE_GRACE_S", "10")),
            tool_url_allow=tuple(v for v in env.get("STUDIO_TOOL_URL_ALLOW", "").replace(",", " ").split() if v),
            audit_url_allow=tuple(v for v in env.get("STUDIO_AUDIT_URL_ALLOW", "").replace(",", " ").split() if v),
        )

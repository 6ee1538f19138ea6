"""The domain registry: one row per domain of the library, and everything that reads the rows.

A row says what a domain contributes to the platform:

* ``routers``: its HTTP routes (``"module:ATTRIBUTE"``, a tuple of ``kernel.routing.Router``);
  the function that serves them names the domain in its ``main.py``;
* ``commands``: its ``POST /commands`` types (a tuple of ``kernel.commands.CommandType``);
* ``errors``: the module registering its own error codes (``kernel.errors.register``);
* ``events``: every domain event type it emits, with the bus topic the event goes to;
* ``topics``: bus topics it publishes to besides its events' (messages that are not domain events);
* ``queries``: the store queries it makes (a tuple of ``kernel.store_queries.StoreQuery``);
* ``streams``: the realtime gateway routes it serves;
* ``tools``: its built-in tools (a tuple of ``kernel.tools.ToolSpec``), invoked through ``studio.tools``.

Code is named by dotted path and imported only when asked for, so reading the table costs
nothing at cold start (no pydantic, no domain code): a function loads its routers on its first
request. The readers: ``functions/*/main.py`` (routers, command types), the local runtime's OpenAPI
and ``infra/errors_doc.py`` (error codes), ``infra/pubsub_topics.py`` (the topics Terraform
creates), tests/unit/test_firestore_indexes.py (queries), the route-security tests (routes,
streams) and tests/unit/test_layering.py (each row is a layer of pyproject's import contract).

A new domain is one row here (docs/adding-a-capability.md).
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.kernel.commands import CommandType
    from studio.kernel.errors import ErrorCode
    from studio.kernel.routing import Router
    from studio.kernel.store_queries import StoreQuery
    from studio.kernel.tools import ToolSpec

KERNEL_ERRORS = "studio.kernel.errors"  # the codes every function shares; the kernel's, not a domain's


@dataclass(frozen=True)
class Domain:
    name: str  # its package: studio.<name>
    summary: str
    routers: str = ""
    commands: str = ""
    errors: str = ""
    events: Mapping[str, str] = field(default_factory=dict, hash=False)  # event type -> topic
    topics: tuple[str, ...] = ()
    queries: str = ""
    streams: tuple[str, ...] = ()
    tools: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", MappingProxyType(dict(self.events)))
        # A domain's parts live in its own package, so the layering contract covers them.
        for ref in (self.routers, self.commands, self.queries, self.tools):
            module, colon, attribute = ref.partition(":")
            if ref and not (module.startswith(f"{self.package}.") and colon and attribute.isidentifier()):
                raise ValueError(f"{self.name}: {ref!r} is not '{self.package}.<module>:<ATTRIBUTE>'")
        if self.errors and not self.errors.startswith(f"{self.package}."):
            raise ValueError(f"{self.name}: its error codes belong in {self.package}, not {self.errors!r}")

    @property
    def package(self) -> str:
        return f"studio.{self.name}"

    def load_routers(self) -> tuple[Router, ...]:
        return tuple(_attribute(self.routers)) if self.routers else ()

    def load_commands(self) -> tuple[CommandType, ...]:
        return tuple(_attribute(self.commands)) if self.commands else ()

    def load_tools(self) -> tuple[ToolSpec, ...]:
        return tuple(_attribute(self.tools)) if self.tools else ()

    def load_queries(self) -> tuple[StoreQuery, ...]:
        return tuple(_attribute(self.queries)) if self.queries else ()

    def load_error_codes(self) -> tuple[ErrorCode, ...]:
        return _codes_in(self.errors) if self.errors else ()

    def all_topics(self) -> frozenset[str]:
        return frozenset(self.events.values()) | frozenset(self.topics)


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "identity", "Accounts, tokens and JWKS, tenants and their members",
        routers="studio.identity.routes:ROUTERS",
        commands="studio.identity.commands:COMMANDS",
        tools="studio.identity.tools:TOOLS",
        errors="studio.identity.errors",
        events={
            "user.signed_up": "domain.user",
            "tenant.created": "domain.tenant",
            "tenant.renamed": "domain.tenant",
            "member.added": "domain.member",
            "member.role_changed": "domain.member",
            "member.removed": "domain.member",
            "member.invited": "domain.member",
            "member.invitation_revoked": "domain.member",
            "user.email_verified": "domain.user",
            "user.password_changed": "domain.user",
            "user.password_reset": "domain.user",
        },
        queries="studio.identity.queries:QUERIES",
    ),
    Domain(
        "chat", "Threads and seq-ordered messages (streamed by the realtime gateway through studio.wiring)",
        routers="studio.chat.routes:ROUTERS",
        tools="studio.chat.tools:TOOLS",
        events={
            "chat.thread_created": "domain.chat",
            "chat.thread_renamed": "domain.chat",
            "chat.thread_deleted": "domain.chat",
            "chat.reply_started": "domain.chat",
            "chat.reply_finished": "domain.chat",
            "chat.message_posted": "chat.messages",  # the agent pipeline's trigger
        },
        queries="studio.chat.queries:QUERIES",
    ),
    Domain(
        "events", "DatasetEvent logging and reading, training preferences",
        routers="studio.events.routes:ROUTERS",
        tools="studio.events.tools:TOOLS",
        events={
            "dataset_event.logged": "dataset-events",  # published straight to the bus, stored by its writer
            "privacy.training_prefs_changed": "domain.privacy",
        },
        queries="studio.events.queries:QUERIES",
    ),
    Domain(
        "privacy", "The policy filter: PII, secrets and national ids allowed, redacted or blocked per tenant policy",
        routers="studio.privacy.routes:ROUTERS",
        errors="studio.privacy.errors",
        events={"privacy.policy_changed": "domain.privacy"},
        tools="studio.privacy.tools:TOOLS",
    ),
    Domain(
        "agents", "The agent pipeline: answers each user message with a streamed reply",
        queries="studio.agents.queries:QUERIES",
    ),
    Domain(
        "realtime", "The SSE / WebSocket gateway: thread streams with exact resume, the meta channel",
        errors="studio.realtime.errors",
        # realtime.meta: job progress ... fanned out by every gateway instance to clients;
        # realtime.presence: joins, leaves, typing and rosters between gateway instances.
        topics=("realtime.meta", "realtime.presence"),
        queries="studio.realtime.queries:QUERIES",
        streams=("/sse/chat/{thread_id}", "/ws/chat/{thread_id}", "/sse/meta", "/ws/meta"),
    ),
    Domain(
        "provenance", "The hash-chained provenance ledger (appended from domain events' provenance), lineage, C2PA",
        routers="studio.provenance.routes:ROUTERS",
        errors="studio.provenance.errors",
        # Its writer consumes domain.media (functions/manifest.yaml: provenance_writer); it emits only this.
        events={"provenance.entry_appended": "domain.provenance"},
        topics=("realtime.meta",),  # each append, and a long verification's progress, to live clients
        queries="studio.provenance.queries:QUERIES",
    ),
    Domain(
        "media", "Uploads that process themselves: sniffing, dedupe, optimised variants, artifacts (/media-v2)",
        routers="studio.media.routes:ROUTERS",
        errors="studio.media.errors",
        events={kind: "domain.media" for kind in (  # the provenance ledger and the optimiser read this topic
            "media.asset_created", "media.asset_registered", "media.asset_ready", "media.asset_failed",
            "media.asset_quarantined", "media.asset_updated", "media.asset_deleted", "media.asset_purged",
            "media.artifact_created", "media.artifact_registered")},
        queries="studio.media.queries:QUERIES",
    ),
    Domain(
        "governance", "Licences, kill switches, strategy locks, three-wise review, temperature corridors, budgets",
        routers="studio.governance.routes:ROUTERS",
        commands="studio.governance.commands:COMMANDS",
        errors="studio.governance.errors",
        events={
            "governance.licence_issued": "domain.governance",
            "governance.licence_revoked": "domain.governance",
            "governance.kill_switch_set": "domain.governance",
            "governance.kill_switch_removed": "domain.governance",
            "governance.lock_set": "domain.governance",
            "governance.question_proposed": "domain.governance",
            "governance.question_voted": "domain.governance",
            "governance.question_decided": "domain.governance",
            "governance.corridor_set": "domain.governance",
            "governance.corridor_removed": "domain.governance",
            "governance.budget_set": "domain.governance",
            "governance.budget_removed": "domain.governance",
            "governance.usage_recorded": "domain.governance",
            "budget.soft_limit_crossed": "realtime.meta",  # to the tenant's live clients (kernel/meta.py)
        },
        queries="studio.governance.queries:QUERIES",
    ),
    Domain(
        "tools", "The tool registry (built-ins and tenant HTTP tools), THE invoke path, MCP and the exports",
        routers="studio.tools.routes:ROUTERS",
        errors="studio.tools.errors",
        events={"tools.tool_registered": "domain.tools", "tools.tool_deleted": "domain.tools"},
        queries="studio.tools.queries:QUERIES",
    ),
    Domain(
        "byok", "A tenant's own provider API keys (BYOK), held by the secrets port, never shown again",
        routers="studio.byok.routes:ROUTERS",
        errors="studio.byok.errors",
        events={"byok.key_added": "domain.byok", "byok.key_rotated": "domain.byok", "byok.key_deleted": "domain.byok"},
        queries="studio.byok.queries:QUERIES",
    ),
    Domain(
        "runtime_config", "Which provider and model each agent and the embeddings use; resolve_model for the pipeline",
        routers="studio.runtime_config.routes:ROUTERS",
        errors="studio.runtime_config.errors",
        events={"runtime_config.changed": "domain.runtime_config", "runtime_config.used": "domain.runtime_config"},
    ),
    Domain("probes", "Cloud identity and billing probes for owners and admins", routers="studio.probes.routes:ROUTERS"),
    Domain(
        "nexus", "The knowledge base: raw documents -> atoms -> cards, hybrid search, memory, explorer, packs",
        routers="studio.nexus.routes:ROUTERS",
        errors="studio.nexus.errors",
        # Its model watch consumes domain.runtime_config (functions/manifest.yaml: nexus_model_watch): a change
        # of the embeddings model starts a re-embed (nexus.reembed_requested, below).
        events={
            "nexus.doc_submitted": "domain.nexus",
            "nexus.doc_replaced": "domain.nexus",
            "nexus.doc_deleted": "domain.nexus",
            "nexus.doc_ingested": "domain.nexus",
            "nexus.doc_failed": "domain.nexus",
            "nexus.ingest_requested": "nexus.ingest",  # the ingest worker's trigger
            "nexus.card_created": "domain.nexus",
            "nexus.card_updated": "domain.nexus",
            "nexus.card_deleted": "domain.nexus",
            "nexus.settings_changed": "domain.nexus",
            "nexus.reembed_requested": "nexus.ingest",
            "nexus.reembed_finished": "domain.nexus",
            "nexus.memory_noted": "domain.nexus",
            "nexus.blackboard_written": "domain.nexus",
            "nexus.blackboard_deleted": "domain.nexus",
        },
        queries="studio.nexus.queries:QUERIES",
        tools="studio.nexus.tools:TOOLS",
    ),
    Domain(
        "audits", "Page quality: accessibility, performance budgets, layout checks, the EAA compliance pack",
        routers="studio.audits.routes:ROUTERS",
        errors="studio.audits.errors",
        events={
            "audits.audit_requested": "audits.jobs",  # the audit worker's trigger
            "audits.audit_started": "domain.audits",
            "audits.audit_finished": "domain.audits",
            "audits.eaa_site_updated": "domain.audits",
        },
        topics=("realtime.meta",),  # audit.progress and audit.result
        queries="studio.audits.queries:QUERIES",
    ),
    Domain(
        "analytics", "Browser event ingest per site, signals, personalisation, journeys and SEO page configs",
        routers="studio.analytics.routes:ROUTERS",
        errors="studio.analytics.errors",
        events={
            "analytics.site_created": "domain.analytics",
            "analytics.site_updated": "domain.analytics",
            "analytics.key_created": "domain.analytics",
            "analytics.key_revoked": "domain.analytics",
            "analytics.signal_created": "domain.analytics",
            "analytics.signal_updated": "domain.analytics",
            "analytics.signal_deleted": "domain.analytics",
            "analytics.rule_created": "domain.analytics",
            "analytics.rule_updated": "domain.analytics",
            "analytics.rule_deleted": "domain.analytics",
            "analytics.seo_page_saved": "domain.analytics",
        },
        topics=("analytics.events",),  # one row per message: the writer, and BigQuery's subscription on GCP
        queries="studio.analytics.queries:QUERIES",
    ),
    Domain(
        "experiments", "Experiments and flags: GrowthBook-compatible assignment, sticky buckets, exposures, OFREP, results",
        routers="studio.experiments.routes:ROUTERS",
        errors="studio.experiments.errors",
        events={
            "experiments.experiment_created": "domain.experiments",
            "experiments.experiment_updated": "domain.experiments",
            "experiments.experiment_started": "domain.experiments",
            "experiments.experiment_stopped": "domain.experiments",
            "experiments.flag_created": "domain.experiments",
            "experiments.flag_updated": "domain.experiments",
            "experiments.sdk_key_created": "domain.experiments",
            "experiments.sdk_key_revoked": "domain.experiments",
        },
        # exposures and simulated traffic: rows for the analytics store's writer; simulation progress
        topics=("analytics.events", "realtime.meta"),
        queries="studio.experiments.queries:QUERIES",
    ),
    Domain(
        "fonts", "Registered font files (TTF, OTF, WOFF2) read with fontTools; embedding licence checked",
        routers="studio.fonts.routes:ROUTERS",
        errors="studio.fonts.errors",
        events={"fonts.font_registered": "domain.fonts", "fonts.site_key_created": "domain.fonts",
                "fonts.site_key_revoked": "domain.fonts",
                "fonts.preset_created": "domain.fonts", "fonts.preset_updated": "domain.fonts"},
        queries="studio.fonts.queries:QUERIES",
    ),
    Domain(
        "video", "Video projects with a timeline, and render jobs run in parallel chunks into a media artifact",
        routers="studio.video.routes:ROUTERS",
        commands="studio.video.commands:COMMANDS",
        tools="studio.video.tools:TOOLS",
        errors="studio.video.errors",
        events={
            "video.project_created": "domain.video",
            "video.project_updated": "domain.video",
            "video.project_deleted": "domain.video",
            "video.timeline_edited": "domain.video",
            "video.render_requested": "render.jobs",  # the render worker's trigger
            "video.render_chunk_queued": "render.chunks",  # one per part: the chunk workers' trigger
            "video.render_started": "domain.video",
            "video.render_finished": "domain.video",
            "video.render_cancelled": "domain.video",
            "video.origin_snippets_linked": "domain.video",  # its provenance object: provenance_writer_video
        },
        topics=("realtime.meta",),  # render.progress and render.result
        queries="studio.video.queries:QUERIES",
    ),
)


def domain(name: str) -> Domain:
    for row in DOMAINS:
        if row.name == name:
            return row
    raise KeyError(f"no domain {name!r} in studio.domains")


def routers(*names: str) -> list[Router]:
    """The routers of the named domains, in order: what a function's ``main.py`` serves."""
    return [router for name in names for router in domain(name).load_routers()]


def command_types(rows: Iterable[Domain] = DOMAINS) -> list[CommandType]:
    return [kind for row in rows for kind in row.load_commands()]


def tool_specs(rows: Iterable[Domain] = DOMAINS) -> list[ToolSpec]:
    """Every built-in tool, as its owning domain declares it (``studio.tools`` serves them)."""
    return [spec for row in rows for spec in row.load_tools()]


def store_queries(rows: Iterable[Domain] = DOMAINS) -> list[StoreQuery]:
    return [query for row in rows for query in row.load_queries()]


def error_codes(rows: Iterable[Domain] = DOMAINS) -> dict[str, ErrorCode]:
    """Every code a client can get: the kernel's and each domain's, by code."""
    found: dict[str, ErrorCode] = {code.code: code for code in _codes_in(KERNEL_ERRORS)}
    for row in rows:
        for code in row.load_error_codes():
            if found.setdefault(code.code, code) != code:  # the same code re-exported is fine; two meanings are not
                raise ValueError(f"error code {code.code} of {row.name} means something else elsewhere")
    return found


def topics(rows: Iterable[Domain] = DOMAINS) -> list[str]:
    """Every bus topic the library publishes to: each must exist before the first publish."""
    return sorted(frozenset().union(*(row.all_topics() for row in rows)))


def _attribute(ref: str) -> Any:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _codes_in(module: str) -> tuple[ErrorCode, ...]:
    from studio.kernel.errors import ErrorCode

    return tuple(value for value in vars(importlib.import_module(module)).values() if isinstance(value, ErrorCode))

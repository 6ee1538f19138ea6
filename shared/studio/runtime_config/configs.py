"""The runtime configuration: provider and model per agent (and a tenant default) and for embeddings,
per tenant and env; and ``resolve_model``, which the agent pipeline asks before each reply.

One document per tenant and env (``tenants/{t}/envs/{e}/runtime_config/selecta``), revisioned: it reads
as rev 0 (the deployment's provider and default model for everything) until first written. Each change
emits ``runtime_config.changed``; each resolution emits ``runtime_config.used`` (which agent got which
provider and model, and whether with the tenant's own key), so usage can be counted per model.

A process runs one model adapter (the bootstrap's ``deps.llm``), so an agent can only be configured to
the provider this deployment runs (422 ``PROVIDER_NOT_DEPLOYED`` otherwise; decision 0042); within it,
the model is free and the tenant's BYOK key for that provider, when it has one, is used.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.byok.keys import ProviderKeys
from studio.byok.providers import KEYED_PROVIDERS
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore
from studio.runtime_config import paths
from studio.runtime_config.errors import AGENT_ID_INVALID, MODEL_NOT_SELECTABLE, PROVIDER_NOT_DEPLOYED

CHANGED, USED = "runtime_config.changed", "runtime_config.used"
_AGENT_ID = re.compile(r"[a-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Choice:
    provider: str
    model: str | None  # None: the deployment's default model for the provider

    def view(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model}


@dataclass(frozen=True)
class RuntimeConfig:
    agents: Mapping[str, Choice]
    default: Choice | None
    embeddings: Choice | None
    rev: int
    updated_at: str | None


@dataclass(frozen=True)
class ResolvedModel:
    """What an agent's next call uses. Unpacks as ``provider, model, api_key``; the key never prints."""

    provider: str
    model: str | None
    api_key: str | None = field(repr=False)
    source: str = "deployment"  # "agent", "tenant default" or "deployment": which setting decided

    def __iter__(self) -> Iterator[Any]:
        return iter((self.provider, self.model, self.api_key))


def _choice(data: Any) -> Choice | None:
    return None if not data else Choice(str(data["provider"]), data.get("model"))


def _from_doc(doc: Document | None) -> RuntimeConfig:
    if doc is None:
        return RuntimeConfig({}, None, None, 0, None)
    agents = {agent: c for agent, raw in dict(doc.data.get("agents", {})).items() if (c := _choice(raw)) is not None}
    return RuntimeConfig(agents, _choice(doc.data.get("default")), _choice(doc.data.get("embeddings")), doc.rev,
                         doc.update_time)


class RuntimeConfigs:
    def __init__(self, store: DocumentStore, keys: ProviderKeys, deployed_provider: str) -> None:
        self._store = store
        self._keys = keys
        self._deployed = deployed_provider

    def get(self, tenant_id: str, env: str) -> RuntimeConfig:
        return _from_doc(self._store.get(paths.selecta(tenant_id, env)))

    def view(self, config: RuntimeConfig) -> dict[str, Any]:
        default = config.default or Choice(self._deployed, None)
        return {"agents": {a: c.view() for a, c in sorted(config.agents.items())}, "default": default.view(),
                "embeddings": config.embeddings.view() if config.embeddings else None,
                "deployed_provider": self._deployed, "rev": config.rev, "updated_at": config.updated_at}

    def put(self, ctx: RequestContext, agents: Mapping[str, Choice], default: Choice | None,
            embeddings: Choice | None, base_rev: int) -> RuntimeConfig:
        for agent_id, choice in agents.items():
            if not _AGENT_ID.fullmatch(agent_id):
                raise errors.StudioError(AGENT_ID_INVALID, errors=[{"field": "body.agents", "message": "invalid agent id"}])
            self._check_deployed(choice, f"agents.{agent_id}")
        if default is not None:
            self._check_deployed(default, "default")
        stored = {"agents": {a: c.view() for a, c in sorted(agents.items())},
                  "default": default.view() if default else None,
                  "embeddings": embeddings.view() if embeddings else None}
        path = paths.selecta(ctx.tenant_id, ctx.env)
        done = self._store.run_transaction(lambda tx: repository.upsert(
            tx, path, base_rev, change=lambda _: {**stored, "updated_at": utc_now(), "updated_by": ctx.user_id},
            event=lambda _, after: DomainEvent(CHANGED, ctx.tenant_id, ctx.env, path, {**stored, "rev": after.rev})))
        return _from_doc(done.after)

    def _check_deployed(self, choice: Choice, where: str) -> None:
        if choice.provider != self._deployed:
            raise errors.StudioError(PROVIDER_NOT_DEPLOYED, f"{where}: this deployment runs {self._deployed}, "
                                     f"not {choice.provider}", provider=choice.provider, deployed=self._deployed)
        if choice.model is not None and choice.provider not in KEYED_PROVIDERS:
            raise errors.StudioError(MODEL_NOT_SELECTABLE, f"{where}: {choice.provider} runs the one model this "
                                     "deployment loaded; leave model null")

    def resolve_model(self, tenant_id: str, env: str, agent_id: str) -> ResolvedModel:
        """Provider, model and API key (the tenant's own when it has one) for ``agent_id``'s next call;
        emits ``runtime_config.used``."""
        config = self.get(tenant_id, env)
        choice, source = config.agents.get(agent_id), "agent"
        if choice is None:
            choice, source = config.default, "tenant default"
        if choice is None:
            choice, source = Choice(self._deployed, None), "deployment"
        if choice.provider != self._deployed:  # configured, then the deployment changed: refuse, never swap
            raise errors.StudioError(PROVIDER_NOT_DEPLOYED, f"agent {agent_id} is configured for {choice.provider}, "
                                     f"but this deployment runs {self._deployed}")
        api_key = self._keys.api_key(tenant_id, choice.provider) if choice.provider in KEYED_PROVIDERS else None
        resolved = ResolvedModel(choice.provider, choice.model, api_key, source)
        self._store.run_transaction(lambda tx: emit(tx, DomainEvent(
            USED, tenant_id, env, paths.selecta(tenant_id, env),
            {"agent_id": agent_id, "provider": resolved.provider, "model": resolved.model, "source": source,
             "byok": api_key is not None})))
        return resolved

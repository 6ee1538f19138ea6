"""Following the runtime configuration's embeddings choice (function ``nexus_model_watch``, on
``runtime_config.changed``): when a tenant's ``embeddings`` choice changes to a model other than its
index's active one, start the re-embed (reembed.py), exactly as ``PUT /nexus/settings/model`` does; the
old index serves until the new one is complete.

One transaction per event: ``nexus_meta/runtime_config`` remembers the last configuration rev followed and
its choice. An event whose rev is not newer (a redelivery, or one overtaken by a later change) does nothing,
so a second message for the same rev never starts a second run; and the run's id is derived from the rev
too. A change that leaves ``embeddings`` as it was (the agents' models) does nothing, nor does ``null``
(no preference: the Nexus settings keep deciding). A choice this deployment cannot embed with (another
provider, a model it does not offer) is answered with a failed run saying why: the configuration is
already written, and the run list is where a tenant looks. While the index moves to another model, the
event raises Unavailable and the bus delivers it again later (docs/decisions/0086-nexus-follows-runtime-config.md).

Every field is checked before anything is read (decision 0102): the tenant and env must be well formed and
the event's subject must lie under that tenant env (an event acts for the tenant it is about, nothing
else); the rev must be a whole number in range (a forged huge rev would make every later change stale);
the embeddings choice must be null or a provider and model of sane shape. A malformed event raises
MalformedRuntimeConfigEvent: the delivery fails, is counted, retried and dead-lettered, never acked away.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from studio.kernel import errors, logs
from studio.kernel.api_model import MAX_REV
from studio.kernel.clock import utc_now
from studio.kernel.context import ENVS, TENANT_ID
from studio.kernel.events import DomainEvent, emit
from studio.nexus import paths, runs
from studio.nexus.errors import NEXUS_REEMBED_RUNNING
from studio.nexus.settings import SettingsService
from studio.ports.embeddings import Embedder
from studio.ports.store import Document, DocumentStore, Transaction

_log = logs.get("studio.nexus")
CHANGED = "runtime_config.changed"
# The runtime configuration's provider names (byok.providers) each embedder answers to.
PROVIDERS: dict[str, tuple[str, ...]] = {"local": ("local",), "vertex": ("gemini",)}
ACTOR = "runtime_config"
_NAME_MAX = 200  # a provider or model name longer than this is not one anybody offers


class MalformedRuntimeConfigEvent(errors.StudioError):
    """A ``runtime_config.changed`` message that is not one the runtime configuration writes: fail the delivery."""

    def __init__(self, detail: str) -> None:
        super().__init__(errors.VALIDATION_FAILED, detail)


def _name(value: Any, what: str, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= _NAME_MAX or not value.isprintable():
        raise MalformedRuntimeConfigEvent(f"{what} must be a name of 1 to {_NAME_MAX} printable characters")
    return value


def checked_choice(data: Mapping[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """The payload's rev and embeddings choice, or MalformedRuntimeConfigEvent."""
    rev = data.get("rev")
    if isinstance(rev, bool) or not isinstance(rev, int) or not 1 <= rev <= MAX_REV:
        raise MalformedRuntimeConfigEvent(f"rev must be a whole number from 1 to {MAX_REV}")
    raw = data.get("embeddings")
    if raw is None:
        return rev, None
    if not isinstance(raw, Mapping):
        raise MalformedRuntimeConfigEvent("embeddings must be null or an object")
    return rev, {"provider": _name(raw.get("provider"), "embeddings.provider", optional=False),
                 "model": _name(raw.get("model"), "embeddings.model", optional=True)}


def checked_scope(tenant_id: Any, env: Any, subject: Any = None) -> tuple[str, str]:
    """The event's tenant env, well formed; with a subject, the subject must lie under it."""
    if not isinstance(tenant_id, str) or not TENANT_ID.match(tenant_id) or env not in ENVS:
        raise MalformedRuntimeConfigEvent("the event names no valid tenant env")
    if subject is not None and (not isinstance(subject, str) or not subject.startswith(f"tenants/{tenant_id}/envs/{env}/")):
        raise MalformedRuntimeConfigEvent("the event's subject is not in the tenant env it names")
    return tenant_id, str(env)


def run_id_for(tenant_id: str, env: str, rev: int) -> str:
    """The re-embed run a configuration rev starts: the same id however often the event comes."""
    return "nr_" + hashlib.sha256(f"{tenant_id}/{env}/runtime_config/{rev}".encode()).hexdigest()[:16]


class RuntimeModelFollower:
    def __init__(self, store: DocumentStore, embedder: Embedder, settings: SettingsService) -> None:
        self._store = store
        self._embedder = embedder
        self._settings = settings

    def on_event(self, event: Mapping[str, Any]) -> str:
        """Apply one decoded ``runtime_config.changed`` event (the function's envelope), checked whole."""
        tenant_id, env = checked_scope(event.get("tenant_id"), event.get("env"), event.get("subject"))
        data = event.get("data")
        if not isinstance(data, Mapping):
            raise MalformedRuntimeConfigEvent("the event carries no data object")
        return self.on_changed(tenant_id, env, data)

    def on_changed(self, tenant_id: str, env: str, data: Mapping[str, Any]) -> str:
        """Apply one ``runtime_config.changed`` payload; returns what happened (for logs and tests)."""
        tenant_id, env = checked_scope(tenant_id, env)
        rev, choice = checked_choice(data)
        try:
            return self._store.run_transaction(lambda tx: self._apply(tx, tenant_id, env, rev, choice))
        except errors.StudioError as exc:
            if exc.code != NEXUS_REEMBED_RUNNING:
                raise
            # Another model is being filled in: once it flips, this change applies (the bus retries).
            raise errors.Unavailable(f"{exc.detail}; the runtime configuration's model follows after") from None

    def _apply(self, tx: Transaction, tenant_id: str, env: str, rev: int, choice: dict[str, Any] | None) -> str:
        # Reads first, then writes (Firestore's transactions buffer the writes; reads do not see them).
        seen = tx.get(paths.runtime_model(tenant_id, env))
        if seen is not None and int(seen.data.get("rev", 0)) >= rev:
            return "stale"
        previous = seen.data.get("embeddings") if seen is not None else None
        setting = tx.get(paths.settings(tenant_id, env, "model"))
        outcome = "unchanged"
        if choice is not None and choice != previous:
            model = choice["model"] or self._embedder.default_model
            run_id = run_id_for(tenant_id, env, rev)
            refusal = self._refusal(choice["provider"], model)
            if refusal is not None:
                runs.start(tx, tenant_id, env, run_id, "reembed", model=model, status="failed", error=refusal,
                           finished_at=utc_now())
                _log.warning("runtime configuration's embeddings not followed",
                             extra={"fields": {"tenant_id": tenant_id, "rev": rev, "reason": refusal}})
                outcome = "refused"
            else:
                if self._settings.switch_model(tx, tenant_id, env, model, run_id) is not None:
                    outcome = "started"  # else the index already has (or is moving to) that model
                self._record_setting(tx, setting, tenant_id, env, model)
        tx.put(paths.runtime_model(tenant_id, env), {"rev": rev, "embeddings": choice, "followed_at": utc_now()})
        return outcome

    def _refusal(self, provider: str, model: str) -> str | None:
        answers_to = PROVIDERS.get(self._embedder.name, (self._embedder.name,))
        if provider not in answers_to:
            return (f"this deployment embeds with {self._embedder.name} ({', '.join(answers_to)}), "
                    f"not {provider}")
        if model not in self._embedder.models():
            return f"no embedding model {model!r} here; choose one of {', '.join(self._embedder.models())}"
        return None

    @staticmethod
    def _record_setting(tx: Transaction, current: Document | None, tenant_id: str, env: str, model: str) -> None:
        """The model section says what the tenant chose last, whichever door the choice came through."""
        if current is not None and current.data.get("model") == model:
            return
        path = paths.settings(tenant_id, env, "model")
        after = tx.put(path, {**(current.data if current is not None else {}), "model": model,
                              "updated_at": utc_now(), "updated_by": ACTOR}, expected_rev=current.rev if current else 0)
        emit(tx, DomainEvent("nexus.settings_changed", tenant_id, env, path,
                             {"section": "model", "rev": after.rev, "source": ACTOR}))

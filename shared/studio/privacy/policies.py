"""The per-tenant policy: allow, redact or block per entity type (D14).

One document per tenant and env (``tenants/{t}/envs/{e}/privacy/policy``), revisioned like every
mutable resource: it reads as rev 0 with the defaults until first written, and every write states the
revision it is based on (base_rev 0 creates it). Each change emits ``privacy.policy_changed``.

Defaults (decision 0039): everything is allowed at request time, so a tenant that never chose keeps the
platform's behaviour (messages stored as written; DatasetEvents and model prompts are scrubbed anyway,
whatever the policy, as before). A tenant tightens its policy; it cannot loosen those floors.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from studio.kernel import repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.ports.store import Document, DocumentStore
from studio.privacy import paths
from studio.privacy.pii import PiiType

CHANGED = "privacy.policy_changed"


class Action(StrEnum):
    ALLOW = "allow"
    REDACT = "redact"
    BLOCK = "block"


DEFAULT_ACTION = Action.ALLOW


@dataclass(frozen=True)
class Policy:
    actions: Mapping[PiiType, Action]
    rev: int
    updated_at: str | None

    @property
    def acts(self) -> bool:
        """Whether applying it can change or refuse anything (the default allows all: no scan needed)."""
        return any(self.action_for(t) is not Action.ALLOW for t in PiiType)

    @property
    def blocks(self) -> bool:
        return any(self.action_for(t) is Action.BLOCK for t in PiiType)

    def action_for(self, entity: PiiType) -> Action:
        return self.actions.get(entity, DEFAULT_ACTION)

    def view(self) -> dict[str, Any]:
        return {"actions": {str(t): str(self.action_for(t)) for t in PiiType}, "default": str(DEFAULT_ACTION),
                "rev": self.rev, "updated_at": self.updated_at}


def _from_doc(doc: Document | None) -> Policy:
    if doc is None:
        return Policy({}, 0, None)
    known = {str(t) for t in PiiType}
    actions = {PiiType(k): Action(v) for k, v in dict(doc.data.get("actions", {})).items() if k in known}
    return Policy(actions, doc.rev, doc.update_time)


class PolicyRepo:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def get(self, tenant_id: str, env: str) -> Policy:
        return _from_doc(self._store.get(paths.policy(tenant_id, env)))

    def put(self, ctx: RequestContext, actions: Mapping[PiiType, Action], base_rev: int) -> Policy:
        """Replace the policy's actions (types left out fall back to the default)."""
        path = paths.policy(ctx.tenant_id, ctx.env)
        stored = {str(t): str(a) for t, a in sorted(actions.items())}
        done = self._store.run_transaction(lambda tx: repository.upsert(
            tx, path, base_rev,
            change=lambda _: {"actions": stored, "updated_at": utc_now(), "updated_by": ctx.user_id},
            event=lambda _, after: DomainEvent(CHANGED, ctx.tenant_id, ctx.env, path,
                                               {"actions": stored, "rev": after.rev})))
        return _from_doc(done.after)

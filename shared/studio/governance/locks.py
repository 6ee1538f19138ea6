"""Strategy locks: a locked scope (temperature, kill_switches, tools, budgets ...) refuses direct
changes with ``STRATEGY_LOCKED``, whose problem points at ``/three-wise/questions``: the change is
then proposed as a question and applied once N reviewers approve it (``three_wise.py``).

A scope is a name (``temperature``), or a name and a target (``tool:chat.post_message``,
``agent:muse``): ``tool:<name>`` and ``agent:<id>`` also freeze invoking that tool or running that
agent, checked by the gates. Locking needs an admin; unlocking needs an owner (or a question), so an
admin cannot lift the lock that binds them (decision 0036).
"""
from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from studio.governance import paths
from studio.governance.errors import STRATEGY_LOCKED
from studio.governance.gates import GateRequest
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.kernel.roles import Role
from studio.ports.store import Document, DocumentStore, Query, Transaction

SCOPE = r"^[a-z][a-z_]{1,40}(:[A-Za-z0-9_.@-]{1,120})?$"
_SCOPE = re.compile(SCOPE)
KNOWN_SCOPES = ("temperature", "kill_switches", "tools", "budgets", "licences", "runtime_config", "privacy_policy")
QUESTIONS_PATH = "/three-wise/questions"
MAX_LOCKS = 500

# Set while an approved three-wise question applies its command: the lock it was asked under holds
# for everyone else, but not for the change the reviewers approved.
_approved: contextvars.ContextVar[str | None] = contextvars.ContextVar("governance_approved_question", default=None)


@contextmanager
def approved_change(question_id: str) -> Iterator[None]:
    token = _approved.set(question_id)
    try:
        yield
    finally:
        _approved.reset(token)


def check_scope_name(scope: str) -> str:
    if not _SCOPE.match(scope):
        raise errors.StudioError(errors.VALIDATION_FAILED, f"scope must match {SCOPE}",
                                 errors=[{"field": "path.scope", "message": f"must match {SCOPE}"}])
    return scope


def lock_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"scope": doc.doc_id, "locked": d["locked"], "reason": d["reason"], "updated_by": d["updated_by"],
            "updated_at": d["updated_at"], "rev": doc.rev}


class LockService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def is_locked(self, tenant_id: str, env: str, scope: str) -> bool:
        doc = self._store.get(paths.lock(tenant_id, env, scope))
        return doc is not None and bool(doc.data.get("locked"))

    def check_scope_unlocked(self, ctx: RequestContext, scope: str) -> None:
        """Raise STRATEGY_LOCKED if ``scope`` is locked, unless an approved question is applying this change."""
        if _approved.get() is not None:
            return
        if self.is_locked(ctx.tenant_id, ctx.env, scope):
            raise errors.StudioError(STRATEGY_LOCKED, f"scope {scope!r} is locked: propose the change at "
                                     f"{QUESTIONS_PATH}", scope=scope, questions=QUESTIONS_PATH)

    def check_request(self, req: GateRequest) -> None:
        """The invoke path's gate: a locked ``tool:<name>`` or ``agent:<id>`` scope freezes that tool or agent."""
        scopes = [f"tool:{req.tool}" if req.tool else None, f"agent:{req.agent_id}" if req.agent_id else None]
        for scope in scopes:
            if scope and _SCOPE.match(scope) and self.is_locked(req.tenant_id, req.env, scope):
                raise errors.StudioError(STRATEGY_LOCKED, f"scope {scope!r} is locked: propose the change at "
                                         f"{QUESTIONS_PATH}", scope=scope, questions=QUESTIONS_PATH)

    def list_locks(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.locks(ctx.tenant_id, ctx.env), limit=MAX_LOCKS))
        return {"locks": [lock_view(d) for d in page.docs], "known_scopes": list(KNOWN_SCOPES)}

    def current_rev(self, ctx: RequestContext, scope: str) -> int:
        doc = self._store.get(paths.lock(ctx.tenant_id, ctx.env, check_scope_name(scope)))
        return 0 if doc is None else doc.rev  # an unset lock reads as rev 0: base_rev 0 creates it

    def put(self, ctx: RequestContext, scope: str, base_rev: int, *, locked: bool,
            reason: str) -> tuple[dict[str, Any], DomainEvent]:
        check_scope_name(scope)

        def change(before: Document | None) -> dict[str, Any]:
            was_locked = before is not None and bool(before.data.get("locked"))
            if was_locked and not locked and _approved.get() is None and not ctx.is_system \
                    and (ctx.role is None or not ctx.role.at_least(Role.OWNER)):
                raise errors.StudioError(errors.ROLE_INSUFFICIENT, "lifting a strategy lock needs an owner "
                                         f"or an approved question at {QUESTIONS_PATH}")
            return {"locked": locked, "reason": reason, "updated_by": ctx.user_id, "updated_at": utc_now()}

        def write(tx: Transaction) -> repository.Revised:
            return repository.upsert(tx, paths.lock(ctx.tenant_id, ctx.env, scope), base_rev, change=change,
                                     event=lambda before, after: DomainEvent(
                                         "governance.lock_set", ctx.tenant_id, ctx.env, after.path,
                                         {"scope": scope, "locked": locked}))

        done = self._store.run_transaction(write)
        return lock_view(done.after), done.event

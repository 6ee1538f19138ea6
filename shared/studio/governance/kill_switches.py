"""Kill switches: block a provider, a model, a tool, an agent or an action, for one tenant and env
or (set by a system identity) platform-wide.

Effective on the next call, within ``CACHE_TTL_S``: each instance keeps the active switches of a
tenant and env (and the platform's) for at most that long, so the gate costs one store query per
tenant per window instead of one per call (decision 0035). A switch set here is seen by this
instance at once (its cache entry is dropped); other instances see it within the window.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from studio.governance import paths
from studio.governance.errors import KILL_SWITCH_ACTIVE, SYSTEM_IDENTITY_REQUIRED
from studio.governance.gates import GateRequest
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

CACHE_TTL_S = 2.0  # the longest a switch set on another instance can lag (decision 0035)
MAX_SWITCHES = 500
TARGET_KINDS = ("provider", "model", "tool", "agent", "action")
PLATFORM = "platform"
MAX_CACHED = 10_000  # tenants an instance remembers; past it the cache starts afresh (memory stays bounded)


def switch_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "scope": d["scope"], "target_kind": d["target_kind"], "target": d["target"],
            "reason": d["reason"], "active": d["active"], "created_by": d["created_by"],
            "created_at": d["created_at"], "rev": doc.rev}


def _matches(switch: dict[str, Any], req: GateRequest) -> bool:
    value: str | None = {"provider": req.provider, "model": req.model, "tool": req.tool, "agent": req.agent_id,
                         "action": req.action}[switch["target_kind"]]
    target = switch["target"]
    if value is None:
        return False
    if target == "*":
        return True
    if switch["target_kind"] == "tool" and req.tool_version and target == f"{req.tool}@{req.tool_version}":
        return True
    return bool(value == target)


class KillSwitchService:
    def __init__(self, store: DocumentStore, *, ttl_s: float = CACHE_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    # -- the gate ----------------------------------------------------------------------------
    def check(self, req: GateRequest) -> None:
        for switch in self._active(PLATFORM, paths.PLATFORM_KILL_SWITCHES) + self._active(
                f"{req.tenant_id}/{req.env}", paths.kill_switches(req.tenant_id, req.env)):
            if _matches(switch, req):
                where = "platform-wide" if switch["scope"] == PLATFORM else "for this tenant"
                raise errors.StudioError(
                    KILL_SWITCH_ACTIVE, f"kill switch {switch['id']} ({where}) blocks {switch['target_kind']} "
                    f"{switch['target']}: {switch['reason']}", switch_id=switch["id"], reason=switch["reason"],
                    target_kind=switch["target_kind"], target=switch["target"])

    def _active(self, key: str, collection: str) -> list[dict[str, Any]]:
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self._ttl_s:
            return hit[1]
        page = self._store.query(Query(collection, [Filter("active", "==", True)], limit=MAX_SWITCHES))
        found = [switch_view(d) for d in page.docs]
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = (now, found)
        return found

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)

    # -- the resource ------------------------------------------------------------------------
    def _collection(self, ctx: RequestContext, platform: bool) -> tuple[str, str]:
        if platform:
            if not ctx.is_system:
                raise errors.StudioError(SYSTEM_IDENTITY_REQUIRED)
            return PLATFORM, paths.PLATFORM_KILL_SWITCHES
        return f"{ctx.tenant_id}/{ctx.env}", paths.kill_switches(ctx.tenant_id, ctx.env)

    def list_switches(self, ctx: RequestContext) -> dict[str, Any]:
        own = self._store.query(Query(paths.kill_switches(ctx.tenant_id, ctx.env), limit=MAX_SWITCHES))
        platform = self._store.query(Query(paths.PLATFORM_KILL_SWITCHES, [Filter("active", "==", True)],
                                           limit=MAX_SWITCHES))
        return {"switches": [switch_view(d) for d in own.docs], "platform": [switch_view(d) for d in platform.docs]}

    def current_rev(self, ctx: RequestContext, switch_id: str, platform: bool = False) -> int | None:
        _, collection = self._collection(ctx, platform)
        doc = self._store.get(f"{collection}/{switch_id}")
        return None if doc is None else doc.rev

    def get(self, ctx: RequestContext, switch_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.kill_switch(ctx.tenant_id, ctx.env, switch_id))
        if doc is None:
            raise errors.NotFound("no such kill switch")
        return switch_view(doc)

    def new_id(self) -> str:
        return "ks_" + secrets.token_hex(8)

    def put(self, ctx: RequestContext, switch_id: str, base_rev: int, *, target_kind: str, target: str,
            reason: str, active: bool, platform: bool = False) -> tuple[dict[str, Any], DomainEvent]:
        """Create (base_rev 0) or replace a switch: the route, the command and a three-wise question use it."""
        key, collection = self._collection(ctx, platform)
        path = f"{collection}/{switch_id}"

        def change(before: Document | None) -> dict[str, Any]:
            created = before.data if before is not None else {"created_by": ctx.user_id, "created_at": utc_now()}
            return {"scope": PLATFORM if platform else "tenant", "target_kind": target_kind, "target": target,
                    "reason": reason, "active": active, "created_by": created["created_by"],
                    "created_at": created["created_at"], "updated_by": ctx.user_id, "updated_at": utc_now()}

        def write(tx: Transaction) -> repository.Revised:
            return repository.upsert(tx, path, base_rev, change=change, event=lambda before, after: DomainEvent(
                "governance.kill_switch_set", ctx.tenant_id, ctx.env, after.path,
                {"switch_id": switch_id, "target_kind": target_kind, "target": target, "active": active,
                 "platform": platform}))

        done = self._store.run_transaction(write)
        self._forget(key)
        return switch_view(done.after), done.event

    def remove(self, ctx: RequestContext, switch_id: str, base_rev: int, platform: bool = False) -> DomainEvent:
        key, collection = self._collection(ctx, platform)

        def write(tx: Transaction) -> repository.Removed:
            return repository.delete(tx, f"{collection}/{switch_id}", base_rev, what="kill switch",
                                     event=lambda before: DomainEvent(
                                         "governance.kill_switch_removed", ctx.tenant_id, ctx.env, before.path,
                                         {"switch_id": switch_id, "platform": platform}))

        removed = self._store.run_transaction(write)
        self._forget(key)
        return removed.event

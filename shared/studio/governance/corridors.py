"""Temperature corridors (I30): a floor, a ceiling and a default per tenant and per agent. The agent
pipeline asks ``clamp`` for the temperature it may use and records what it used.

An agent's corridor narrows the tenant's: the requested value (or the agent's default, else the
tenant's, else the platform's) is clamped into the agent's corridor, then into the tenant's, so an
agent corridor written wider than the tenant's can never widen it.
"""
from __future__ import annotations

from typing import Any

from studio.governance import paths
from studio.governance.errors import CORRIDOR_INVALID
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent
from studio.ports.store import Document, DocumentStore, Query, Transaction

PLATFORM_FLOOR, PLATFORM_CEILING, PLATFORM_DEFAULT = 0.0, 2.0, 0.7
TENANT = "tenant"
MAX_CORRIDORS = 500


def corridor_id(agent_id: str | None) -> str:
    return TENANT if agent_id is None else f"agent.{agent_id}"


def corridor_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "agent_id": d.get("agent_id"), "floor": d["floor"], "ceiling": d["ceiling"],
            "default": d["default"], "updated_by": d["updated_by"], "updated_at": d["updated_at"], "rev": doc.rev}


def _into(value: float, corridor: dict[str, Any] | None) -> float:
    if corridor is None:
        return value
    return float(min(max(value, corridor["floor"]), corridor["ceiling"]))


class CorridorService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def clamp(self, tenant_id: str, env: str, agent_id: str | None, requested: float | None) -> float:
        """The temperature a call may use: ``requested`` (or a default) inside the agent's and tenant's corridors."""
        agent_doc, tenant_doc = self._store.get_many([paths.corridor(tenant_id, env, corridor_id(agent_id)),
                                                      paths.corridor(tenant_id, env, TENANT)]) \
            if agent_id is not None else (None, self._store.get(paths.corridor(tenant_id, env, TENANT)))
        agent = agent_doc.data if agent_doc is not None else None
        tenant = tenant_doc.data if tenant_doc is not None else None
        value = requested
        if value is None:
            value = (agent or tenant or {}).get("default", PLATFORM_DEFAULT)
        value = _into(_into(float(value), agent), tenant)
        return min(max(value, PLATFORM_FLOOR), PLATFORM_CEILING)

    def list_corridors(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.corridors(ctx.tenant_id, ctx.env), limit=MAX_CORRIDORS))
        return {"corridors": [corridor_view(d) for d in page.docs],
                "platform": {"floor": PLATFORM_FLOOR, "ceiling": PLATFORM_CEILING, "default": PLATFORM_DEFAULT}}

    def current_rev(self, ctx: RequestContext, agent_id: str | None) -> int:
        doc = self._store.get(paths.corridor(ctx.tenant_id, ctx.env, corridor_id(agent_id)))
        return 0 if doc is None else doc.rev  # unset reads as rev 0: base_rev 0 creates it

    def put(self, ctx: RequestContext, agent_id: str | None, base_rev: int, *, floor: float, ceiling: float,
            default: float) -> tuple[dict[str, Any], DomainEvent]:
        if not PLATFORM_FLOOR <= floor <= default <= ceiling <= PLATFORM_CEILING:
            raise errors.StudioError(CORRIDOR_INVALID, f"need {PLATFORM_FLOOR} <= floor <= default <= ceiling <= "
                                     f"{PLATFORM_CEILING}; got {floor}, {default}, {ceiling}")
        cid = corridor_id(agent_id)

        def write(tx: Transaction) -> repository.Revised:
            return repository.upsert(tx, paths.corridor(ctx.tenant_id, ctx.env, cid), base_rev, change=lambda before: {
                "agent_id": agent_id, "floor": floor, "ceiling": ceiling, "default": default,
                "updated_by": ctx.user_id, "updated_at": utc_now()}, event=lambda before, after: DomainEvent(
                "governance.corridor_set", ctx.tenant_id, ctx.env, after.path,
                {"corridor_id": cid, "floor": floor, "ceiling": ceiling, "default": default}))

        done = self._store.run_transaction(write)
        return corridor_view(done.after), done.event

    def remove(self, ctx: RequestContext, agent_id: str | None, base_rev: int) -> None:
        cid = corridor_id(agent_id)

        def write(tx: Transaction) -> None:
            repository.delete(tx, paths.corridor(ctx.tenant_id, ctx.env, cid), base_rev, what="corridor",
                              event=lambda before: DomainEvent("governance.corridor_removed", ctx.tenant_id, ctx.env,
                                                               before.path, {"corridor_id": cid}))

        self._store.run_transaction(write)

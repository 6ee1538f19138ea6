"""Budgets (I30): soft and hard limits in US dollars per tenant, env, provider and period, enforced
by reserving before a call and settling after it.

A reservation and a settlement are each one store transaction over the budget's running totals
for the period (``spend`` documents): a call is admitted only if spent + reserved + its estimate
stays under every hard limit that covers it. Concurrent calls serialise on those documents (SQLite
``BEGIN IMMEDIATE``; Firestore's optimistic retries), so they can never pass a hard limit together;
only a call that costs more than it estimated can overshoot, and by no more than its own excess
(decision 0038). Crossing a soft limit tells the tenant's live clients on the meta channel, once per
period.
"""
from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from studio.governance import paths
from studio.governance.errors import BUDGET_EXCEEDED
from studio.governance.gates import GateRequest, Reservation
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

Period = Literal["day", "month", "total"]
ANY_PROVIDER = "*"
TOOLS_PROVIDER = "tools"  # a tool invocation with no model behind it counts against "tools" budgets
MAX_BUDGETS = 100
MAX_USAGE = 500


def period_key(period: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return {"day": now.strftime("%Y-%m-%d"), "month": now.strftime("%Y-%m"), "total": "all"}[period]


def budget_view(doc: Document, spend: dict[str, Any] | None = None) -> dict[str, Any]:
    d = doc.data
    s = spend or {}
    return {"id": doc.doc_id, "provider": d["provider"], "period": d["period"], "soft_usd": d["soft_usd"],
            "hard_usd": d["hard_usd"], "period_key": period_key(d["period"]), "spent_usd": s.get("spent_usd", 0.0),
            "reserved_usd": s.get("reserved_usd", 0.0), "tokens": s.get("tokens", 0), "rev": doc.rev,
            "updated_by": d["updated_by"], "updated_at": d["updated_at"]}


def usage_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, **{k: d[k] for k in ("action", "provider", "model", "tool", "subject_kind",
                                                   "subject_id", "tokens", "cost_usd", "estimate_usd", "at")}}


def provider_of(req_provider: str | None) -> str:
    return req_provider or TOOLS_PROVIDER


class BudgetService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def _covering(self, tx: Transaction, tenant_id: str, env: str, provider: str) -> list[Document]:
        page = tx.query(Query(paths.budgets(tenant_id, env), limit=MAX_BUDGETS))
        return [d for d in page.docs if d.data["provider"] in (ANY_PROVIDER, provider)]

    # -- the gate ----------------------------------------------------------------------------
    def reserve(self, req: GateRequest) -> Reservation:
        provider = provider_of(req.provider)
        estimate = max(0.0, float(req.estimate_usd))
        reservation_id = "rsv_" + secrets.token_hex(10)

        def write(tx: Transaction) -> Reservation:
            held: list[str] = []
            for budget in self._covering(tx, req.tenant_id, req.env, provider):
                key = period_key(budget.data["period"])
                spend_path = paths.spend(req.tenant_id, req.env, budget.doc_id, key)
                spend = tx.get(spend_path)
                s = dict(spend.data) if spend is not None else {"spent_usd": 0.0, "reserved_usd": 0.0, "tokens": 0,
                                                               "soft_notified": False}
                if s["spent_usd"] + s["reserved_usd"] + estimate > budget.data["hard_usd"]:
                    raise errors.StudioError(
                        BUDGET_EXCEEDED, f"budget {budget.doc_id} ({budget.data['provider']}, {budget.data['period']}) "
                        f"has {max(0.0, budget.data['hard_usd'] - s['spent_usd'] - s['reserved_usd']):.6f} USD left of "
                        f"{budget.data['hard_usd']}; this call may cost {estimate:.6f}", budget_id=budget.doc_id,
                        hard_usd=budget.data["hard_usd"], spent_usd=s["spent_usd"], reserved_usd=s["reserved_usd"])
                s["reserved_usd"] += estimate
                tx.put(spend_path, s)
                held.append(f"{budget.doc_id}.{key}")
            res = Reservation(reservation_id, req.tenant_id, req.env, tuple(held), estimate, req.estimate_tokens,
                              provider, req.model, req.tool, req.subject.kind, req.subject.id, req.action)
            tx.create(paths.reservation(req.tenant_id, req.env, reservation_id),
                      {"spends": list(held), "estimate_usd": estimate, "at": utc_now()})
            return res

        return self._store.run_transaction(write)

    def _unreserve(self, tx: Transaction, res: Reservation, usd: float, tokens: int) -> list[tuple[str, Document]]:
        """Move the estimate out of ``reserved`` (and ``usd`` into ``spent``) on every budget the call held."""
        crossed: list[tuple[str, Document]] = []
        for held in res.budget_ids:
            budget_id, _, key = held.partition(".")
            spend_path = paths.spend(res.tenant_id, res.env, budget_id, key)
            spend = tx.get(spend_path)
            if spend is None:
                continue
            s = dict(spend.data)
            before = s["spent_usd"]
            s["reserved_usd"] = max(0.0, s["reserved_usd"] - res.estimate_usd)
            s["spent_usd"] = before + usd
            s["tokens"] = s.get("tokens", 0) + tokens
            budget = tx.get(paths.budget(res.tenant_id, res.env, budget_id))
            if budget is not None and not s.get("soft_notified") and before < budget.data["soft_usd"] <= s["spent_usd"]:
                s["soft_notified"] = True
                crossed.append((key, budget))
            tx.put(spend_path, s)
        return crossed

    def settle(self, res: Reservation, usd: float, tokens: int) -> None:
        usd, tokens = max(0.0, float(usd)), max(0, int(tokens))
        record_id = "use_" + res.id.removeprefix("rsv_")

        def write(tx: Transaction) -> None:
            rpath = paths.reservation(res.tenant_id, res.env, res.id)
            if tx.get(rpath) is None:
                return  # settled or released already: a retry must not count the call twice
            crossed = self._unreserve(tx, res, usd, tokens)
            tx.delete(rpath)
            doc = tx.create(paths.usage_record(res.tenant_id, res.env, record_id), {
                "action": res.action, "provider": res.provider, "model": res.model, "tool": res.tool,
                "subject_kind": res.subject_kind, "subject_id": res.subject_id, "tokens": tokens, "cost_usd": usd,
                "estimate_usd": res.estimate_usd, "at": utc_now()})
            emit(tx, DomainEvent("governance.usage_recorded", res.tenant_id, res.env, doc.path,
                                 {"record_id": record_id, "provider": res.provider, "cost_usd": usd, "tokens": tokens}))
            for key, budget in crossed:
                emit_meta(tx, res.tenant_id, res.env, "budget.soft_limit_crossed", {
                    "budget_id": budget.doc_id, "provider": budget.data["provider"], "period": budget.data["period"],
                    "period_key": key, "soft_usd": budget.data["soft_usd"], "hard_usd": budget.data["hard_usd"]},
                    subject=budget.path)

        self._store.run_transaction(write)

    def release(self, res: Reservation) -> None:
        def write(tx: Transaction) -> None:
            rpath = paths.reservation(res.tenant_id, res.env, res.id)
            if tx.get(rpath) is None:
                return
            self._unreserve(tx, res, 0.0, 0)
            tx.delete(rpath)

        self._store.run_transaction(write)

    # -- the resource ------------------------------------------------------------------------
    def _spend_of(self, doc: Document, tenant_id: str, env: str) -> dict[str, Any] | None:
        spend = self._store.get(paths.spend(tenant_id, env, doc.doc_id, period_key(doc.data["period"])))
        return None if spend is None else spend.data

    def list_budgets(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.budgets(ctx.tenant_id, ctx.env), limit=MAX_BUDGETS))
        return {"budgets": [budget_view(d, self._spend_of(d, ctx.tenant_id, ctx.env)) for d in page.docs]}

    def current_rev(self, ctx: RequestContext, budget_id: str) -> int:
        doc = self._store.get(paths.budget(ctx.tenant_id, ctx.env, budget_id))
        return 0 if doc is None else doc.rev  # unset reads as rev 0: base_rev 0 creates it

    def put(self, ctx: RequestContext, budget_id: str, base_rev: int, *, provider: str, period: str, soft_usd: float,
            hard_usd: float) -> tuple[dict[str, Any], DomainEvent]:
        def change(before: Document | None) -> dict[str, Any]:
            return {"provider": provider, "period": period, "soft_usd": soft_usd, "hard_usd": hard_usd,
                    "updated_by": ctx.user_id, "updated_at": utc_now()}

        def write(tx: Transaction) -> repository.Revised:
            return repository.upsert(tx, paths.budget(ctx.tenant_id, ctx.env, budget_id), base_rev, change=change,
                                     event=lambda before, after: DomainEvent(
                                         "governance.budget_set", ctx.tenant_id, ctx.env, after.path,
                                         {"budget_id": budget_id, "provider": provider, "period": period}))

        done = self._store.run_transaction(write)
        return budget_view(done.after, self._spend_of(done.after, ctx.tenant_id, ctx.env)), done.event

    def remove(self, ctx: RequestContext, budget_id: str, base_rev: int) -> None:
        def write(tx: Transaction) -> None:
            repository.delete(tx, paths.budget(ctx.tenant_id, ctx.env, budget_id), base_rev, what="budget",
                              event=lambda before: DomainEvent("governance.budget_removed", ctx.tenant_id, ctx.env,
                                                               before.path, {"budget_id": budget_id}))

        self._store.run_transaction(write)

    def usage(self, ctx: RequestContext, limit: int, cursor: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.usage(ctx.tenant_id, ctx.env), order_by=[("at", "desc")], limit=limit,
                                       cursor=cursor))
        return {"records": [usage_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def summary(self, ctx: RequestContext, since: str) -> dict[str, Any]:
        page = self._store.query(Query(paths.usage(ctx.tenant_id, ctx.env), [Filter("at", ">=", since)],
                                       [("at", "desc")], limit=MAX_USAGE))
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for doc in page.docs:
            d = doc.data
            row = rows.setdefault((d["provider"], d.get("model") or ""), {
                "provider": d["provider"], "model": d.get("model") or "", "calls": 0, "tokens": 0, "cost_usd": 0.0})
            row["calls"] += 1
            row["tokens"] += d["tokens"]
            row["cost_usd"] += d["cost_usd"]
        return {"since": since, "truncated": page.next_cursor is not None,
                "by_provider_model": sorted(rows.values(), key=lambda r: (r["provider"], r["model"])),
                "total_usd": sum(r["cost_usd"] for r in rows.values()),
                "total_tokens": sum(r["tokens"] for r in rows.values()),
                "budgets": self.list_budgets(ctx)["budgets"]}

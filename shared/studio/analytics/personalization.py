"""Personalisation rules: a segment (a condition over signals and attributes) -> a content variant for a slot.

``resolve`` reads the subject's signal values once and answers every slot asked for with the first
matching rule (lowest priority number, then oldest): the same inputs always give the same variant.
"""
from __future__ import annotations

import secrets
from typing import Any

from studio.analytics import conditions, paths
from studio.analytics.signals import SignalService
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

MAX_RULES = 500


def rule_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "slot": d["slot"], "segment": d["segment"], "variant": d["variant"],
            "priority": d["priority"], "description": d.get("description", ""), "rev": doc.rev,
            "created_at": d["created_at"], "updated_at": d["updated_at"]}


class RuleService:
    def __init__(self, store: DocumentStore, signals: SignalService) -> None:
        self._store = store
        self._signals = signals

    def create(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        conditions.check(spec["segment"])
        rule_id = "rule_" + secrets.token_hex(6)

        def write(tx: Transaction) -> Document:
            if len(tx.query(Query(paths.rules(ctx.tenant_id, ctx.env), limit=MAX_RULES)).docs) >= MAX_RULES:
                raise errors.StudioError(errors.VALIDATION_FAILED, f"a tenant keeps at most {MAX_RULES} rules")
            now = utc_now()
            doc = tx.create(paths.rule(ctx.tenant_id, ctx.env, rule_id), {**spec, "created_at": now, "updated_at": now})
            emit(tx, DomainEvent("analytics.rule_created", ctx.tenant_id, ctx.env, doc.path,
                                 {"rule_id": rule_id, "slot": spec["slot"]}))
            return doc

        return rule_view(self._store.run_transaction(write))

    def list_rules(self, ctx: RequestContext) -> dict[str, Any]:
        docs = self._store.query(Query(paths.rules(ctx.tenant_id, ctx.env), limit=MAX_RULES)).docs
        return {"rules": [rule_view(d) for d in _ordered(docs)]}

    def current_rev(self, ctx: RequestContext, rule_id: str) -> int | None:
        doc = self._store.get(paths.rule(ctx.tenant_id, ctx.env, rule_id))
        return None if doc is None else doc.rev

    def edit(self, ctx: RequestContext, rule_id: str, changes: dict[str, Any], base_rev: int) -> dict[str, Any]:
        if "segment" in changes:
            conditions.check(changes["segment"])

        def write(tx: Transaction) -> Document:
            return repository.update(
                tx, paths.rule(ctx.tenant_id, ctx.env, rule_id), base_rev, what="rule",
                change=lambda doc: {**doc.data, **changes, "updated_at": utc_now()},
                event=lambda before, after: DomainEvent("analytics.rule_updated", ctx.tenant_id, ctx.env, after.path,
                                                        {"rule_id": rule_id})).after

        return rule_view(self._store.run_transaction(write))

    def delete(self, ctx: RequestContext, rule_id: str, base_rev: int) -> None:
        def write(tx: Transaction) -> None:
            repository.delete(tx, paths.rule(ctx.tenant_id, ctx.env, rule_id), base_rev, what="rule",
                              event=lambda before: DomainEvent("analytics.rule_deleted", ctx.tenant_id, ctx.env,
                                                               before.path, {"rule_id": rule_id}))

        self._store.run_transaction(write)

    def resolve(self, ctx: RequestContext, subject: str, attributes: dict[str, Any], slots: list[str]) -> dict[str, Any]:
        signals = self._signals.values(ctx.tenant_id, ctx.env, subject)["values"]
        context = {"signals": signals, "attributes": attributes}
        docs = _ordered(self._store.query(Query(paths.rules(ctx.tenant_id, ctx.env), limit=MAX_RULES)).docs)
        answers: dict[str, Any] = {}
        for slot in dict.fromkeys(slots):
            chosen = next((d for d in docs if d.data["slot"] == slot and conditions.evaluate(d.data["segment"], context)),
                          None)
            answers[slot] = {"variant": chosen.data["variant"] if chosen else None,
                             "rule_id": chosen.doc_id if chosen else None}
        return {"subject": subject, "slots": answers}


def _ordered(docs: list[Document]) -> list[Document]:
    return sorted(docs, key=lambda d: (d.data["priority"], d.data["created_at"], d.doc_id))

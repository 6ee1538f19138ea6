"""Feature flags: a default value and rules tried in order, revisioned, draft -> running -> stopped.

A flag that is not running serves its default (OFREP reason DISABLED). A ``force`` rule serves its
value to subjects matching its condition, within its coverage (GrowthBook's rollout: the subject's
hash of the flag key below the coverage). An ``experiment`` rule serves the value of the subject's
variation in a running experiment, recording the sticky assignment and the exposure.
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from studio.experiments import conditions, paths
from studio.experiments.errors import (
    DEFINITION_LOCKED,
    EXPERIMENT_KEY_TAKEN,
    EXPERIMENT_UNKNOWN,
    STATUS_TRANSITION_INVALID,
)
from studio.experiments.keys import KEY_PATTERN
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

if TYPE_CHECKING:  # annotations only: listing flags must not import pydantic (decision 0097)
    from studio.experiments.models import FlagIn, FlagPatch, RuleIn

RESERVED_KEYS = frozenset({"sdk-keys"})  # /flags/sdk-keys is a route, not a flag
_KEY = re.compile(KEY_PATTERN)
_NEXT = {"draft": ("draft", "running"), "running": ("running", "stopped"), "stopped": ("stopped",)}


def _rules(rules: list[RuleIn]) -> list[dict[str, Any]]:
    stored = []
    for rule in rules:
        conditions.check(rule.condition)
        stored.append({"kind": rule.kind, "condition_json": None if rule.condition is None else json.dumps(rule.condition),
                       "coverage": rule.coverage, "hash_attribute": rule.hash_attribute,
                       "value_json": json.dumps(rule.value), "experiment_id": rule.experiment_id})
    return stored


def _check_experiments(tx: Transaction, ctx: RequestContext, rules: list[dict[str, Any]]) -> None:
    """An experiment rule names an experiment of this tenant env (never another tenant's id, never a typo)."""
    for rule in rules:
        if rule["experiment_id"] and tx.get(paths.experiment(ctx.tenant_id, ctx.env, rule["experiment_id"])) is None:
            raise errors.StudioError(EXPERIMENT_UNKNOWN, f"no experiment {rule['experiment_id']} here")


def rule_view(rule: dict[str, Any]) -> dict[str, Any]:
    return {"kind": rule["kind"], "condition": None if rule["condition_json"] is None else json.loads(rule["condition_json"]),
            "coverage": rule["coverage"], "hash_attribute": rule["hash_attribute"],
            "value": json.loads(rule["value_json"]), "experiment_id": rule["experiment_id"]}


def flag_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"key": doc.doc_id, "description": d["description"], "status": d["status"],
            "default_value": json.loads(d["default_json"]), "rules": [rule_view(r) for r in d["rules"]],
            "rev": doc.rev, "created_at": doc.create_time, "updated_at": doc.update_time}


class FlagService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def create(self, ctx: RequestContext, body: FlagIn) -> dict[str, Any]:
        if body.key in RESERVED_KEYS:
            raise errors.StudioError(EXPERIMENT_KEY_TAKEN, f"{body.key!r} is reserved")
        rules = _rules(body.rules)
        data = {"description": body.description, "status": "draft", "default_json": json.dumps(body.default_value),
                "rules": rules, "created_by": ctx.user_id, "created_at": utc_now()}

        def write(tx: Transaction) -> Document:
            path = paths.flag(ctx.tenant_id, ctx.env, body.key)
            if tx.get(path) is not None:
                raise errors.StudioError(EXPERIMENT_KEY_TAKEN, f"a flag already uses the key {body.key!r}")
            _check_experiments(tx, ctx, rules)
            doc = tx.create(path, data)
            emit(tx, DomainEvent("experiments.flag_created", ctx.tenant_id, ctx.env, doc.path, {"key": body.key}))
            return doc

        return flag_view(self._store.run_transaction(write))

    def get(self, ctx: RequestContext, key: str) -> dict[str, Any]:
        doc = self._store.get(self._path(ctx, key))
        if doc is None:
            raise errors.NotFound("no such flag")
        return flag_view(doc)

    def list_flags(self, ctx: RequestContext, limit: int, page_token: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.flags(ctx.tenant_id, ctx.env), [], [("created_at", "desc")],
                                       limit, page_token))
        return {"flags": [flag_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def current_rev(self, ctx: RequestContext, key: str) -> int | None:
        doc = self._store.get(self._path(ctx, key))
        return None if doc is None else doc.rev

    def update(self, ctx: RequestContext, key: str, patch: FlagPatch, base_rev: int) -> dict[str, Any]:
        changed = patch.model_fields_set - {"base_rev"}
        rules = None if patch.rules is None else _rules(patch.rules)

        def change(doc: Document) -> dict[str, Any]:
            new = dict(doc.data)
            status = doc.data["status"]
            if status == "stopped" and changed - {"description", "status"}:
                raise errors.StudioError(DEFINITION_LOCKED, "a stopped flag changes only its description")
            if patch.status is not None and patch.status != status:
                if patch.status not in _NEXT[status]:
                    raise errors.StudioError(STATUS_TRANSITION_INVALID, f"{status} cannot become {patch.status}")
                new["status"] = patch.status
            if patch.description is not None:
                new["description"] = patch.description
            if "default_value" in changed:
                new["default_json"] = json.dumps(patch.default_value)
            if rules is not None:
                new["rules"] = rules
            return new

        def write(tx: Transaction) -> Document:
            if rules is not None:  # reads before the write (Firestore transactions read first)
                _check_experiments(tx, ctx, rules)
            return repository.update(
                tx, self._path(ctx, key), base_rev, change=change, what="flag",
                event=lambda before, after: DomainEvent("experiments.flag_updated", ctx.tenant_id, ctx.env, after.path,
                                                        {"key": key, "rev": after.rev, "fields": sorted(changed)})).after

        return flag_view(self._store.run_transaction(write))

    def _path(self, ctx: RequestContext, key: str) -> str:
        if not _KEY.fullmatch(key):
            raise errors.NotFound("no such flag")
        return paths.flag(ctx.tenant_id, ctx.env, key)

"""Experiments: their definition, revisioned, and their lifecycle draft -> running -> stopped.

A running experiment keeps its variations (keys and count), hash attribute, hash version and seed:
changing any would move subjects between variations. Its weights, coverage, condition and namespace
may change; subjects already bucketed keep their sticky assignment (``enrolment``). A stopped
experiment is final. Conditions and variation values are stored as JSON text, so their keys
(``$in``, ``user.country``) are never read as store field paths.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from studio.experiments import assignment, conditions, paths
from studio.experiments.errors import (
    DEFINITION_LOCKED,
    EXPERIMENT_KEY_TAKEN,
    STATUS_TRANSITION_INVALID,
    WEIGHTS_INVALID,
)
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

if TYPE_CHECKING:  # annotations only: listing experiments must not import pydantic (decision 0097)
    from studio.experiments.models import ExperimentIn, ExperimentPatch, VariationIn

ID_PREFIX = "exp_"
_NEXT = {"draft": ("draft", "running"), "running": ("running", "stopped"), "stopped": ("stopped",)}
_FIXED_WHILE_RUNNING = ("variations", "hash_attribute", "hash_version", "seed")


def checked_weights(weights: list[float | None]) -> list[float]:
    """All weights set and summing to 1 (within GrowthBook's 0.01), or none set: equal shares."""
    if all(w is None for w in weights):
        return [1 / len(weights)] * len(weights)
    if any(w is None for w in weights):
        raise errors.StudioError(WEIGHTS_INVALID, "set a weight on every variation or on none")
    total = sum(w for w in weights if w is not None)
    if not 0.99 <= total <= 1.01:
        raise errors.StudioError(WEIGHTS_INVALID, f"weights sum to {total:.4f}, not 1")
    return [float(w) for w in weights if w is not None]


def _variations(items: list[VariationIn]) -> list[dict[str, Any]]:
    keys = [v.key for v in items]
    if len(set(keys)) != len(keys):
        raise errors.StudioError(errors.VALIDATION_FAILED, "variation keys must be distinct")
    weights = checked_weights([v.weight for v in items])
    return [{"key": v.key, "name": v.name or v.key, "value_json": json.dumps(v.value), "weight": w}
            for v, w in zip(items, weights, strict=True)]


def _condition_json(condition: Mapping[str, Any] | None) -> str | None:
    conditions.check(condition)
    return None if condition is None else json.dumps(condition)


def experiment_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {
        "id": doc.doc_id, "key": d["key"], "name": d["name"], "description": d["description"],
        "status": d["status"],
        "variations": [{"key": v["key"], "name": v["name"], "value": json.loads(v["value_json"]),
                        "weight": v["weight"]} for v in d["variations"]],
        "coverage": d["coverage"], "hash_attribute": d["hash_attribute"], "hash_version": d["hash_version"],
        "seed": d["seed"], "namespace": d["namespace"],
        "condition": None if d["condition_json"] is None else json.loads(d["condition_json"]),
        "metric": d["metric"], "rev": doc.rev, "created_at": doc.create_time, "updated_at": doc.update_time,
        "started_at": d.get("started_at"), "stopped_at": d.get("stopped_at"),
    }


_DEFINITIONS: dict[tuple[str, int, str], assignment.Definition] = {}
_MAX_CACHED = 4096


def definition(doc: Document) -> assignment.Definition:
    """The assignment view of a stored experiment, built once per revision (every evaluation reads it)."""
    key = (doc.path, doc.rev, doc.update_time)
    found = _DEFINITIONS.get(key)
    if found is None:
        if len(_DEFINITIONS) >= _MAX_CACHED:
            _DEFINITIONS.clear()
        found = _DEFINITIONS[key] = _build_definition(doc.data)
    return found


def _build_definition(d: Mapping[str, Any]) -> assignment.Definition:
    ns = d["namespace"]
    return assignment.Definition(
        key=d["key"], variation_keys=tuple(v["key"] for v in d["variations"]),
        weights=tuple(v["weight"] for v in d["variations"]), coverage=d["coverage"],
        hash_attribute=d["hash_attribute"], hash_version=d["hash_version"], seed=d["seed"],
        namespace=assignment.Namespace(ns["id"], ns["start"], ns["end"]) if ns else None,
        condition=None if d["condition_json"] is None else json.loads(d["condition_json"]),
        running=d["status"] == "running")


class ExperimentService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def create(self, ctx: RequestContext, body: ExperimentIn) -> dict[str, Any]:
        experiment_id = ID_PREFIX + secrets.token_hex(8)
        data = {
            "key": body.key, "name": body.name or body.key, "description": body.description, "status": "draft",
            "variations": _variations(body.variations), "coverage": body.coverage,
            "hash_attribute": body.hash_attribute, "hash_version": body.hash_version, "seed": body.seed,
            "namespace": body.namespace.model_dump() if body.namespace else None,
            "condition_json": _condition_json(body.condition),
            "metric": body.metric.model_dump() if body.metric else None,
            "created_by": ctx.user_id, "created_at": utc_now(), "started_at": None, "stopped_at": None,
        }

        def write(tx: Transaction) -> Document:
            claim = paths.experiment_key(ctx.tenant_id, ctx.env, body.key)
            if tx.get(claim) is not None:
                raise errors.StudioError(EXPERIMENT_KEY_TAKEN, f"an experiment already uses the key {body.key!r}")
            tx.create(claim, {"experiment_id": experiment_id})
            doc = tx.create(paths.experiment(ctx.tenant_id, ctx.env, experiment_id), data)
            emit(tx, DomainEvent("experiments.experiment_created", ctx.tenant_id, ctx.env, doc.path,
                                 {"experiment_id": experiment_id, "key": body.key}))
            return doc

        return experiment_view(self._store.run_transaction(write))

    def get_doc(self, ctx: RequestContext, experiment_id: str) -> Document:
        doc = self._store.get(self._path(ctx, experiment_id))
        if doc is None:
            raise errors.NotFound("no such experiment")
        return doc

    def get(self, ctx: RequestContext, experiment_id: str) -> dict[str, Any]:
        return experiment_view(self.get_doc(ctx, experiment_id))

    def list_experiments(self, ctx: RequestContext, limit: int, page_token: str | None) -> dict[str, Any]:
        page = self._store.query(Query(paths.experiments(ctx.tenant_id, ctx.env), [], [("created_at", "desc")],
                                       limit, page_token))
        return {"experiments": [experiment_view(d) for d in page.docs], "next_page_token": page.next_cursor}

    def current_rev(self, ctx: RequestContext, experiment_id: str) -> int | None:
        doc = self._store.get(self._path(ctx, experiment_id))
        return None if doc is None else doc.rev

    def update(self, ctx: RequestContext, experiment_id: str, patch: ExperimentPatch, base_rev: int) -> dict[str, Any]:
        changed = patch.model_fields_set - {"base_rev"}

        def change(doc: Document) -> dict[str, Any]:
            return _patched(doc.data, patch, changed)

        def event(before: Document, after: Document) -> DomainEvent:
            kind = {("draft", "running"): "experiments.experiment_started",
                    ("running", "stopped"): "experiments.experiment_stopped"}.get(
                (before.data["status"], after.data["status"]), "experiments.experiment_updated")
            return DomainEvent(kind, ctx.tenant_id, ctx.env, after.path,
                               {"experiment_id": experiment_id, "key": after.data["key"], "rev": after.rev,
                                "fields": sorted(changed)})

        done = self._store.run_transaction(lambda tx: repository.update(
            tx, self._path(ctx, experiment_id), base_rev, change=change, event=event, what="experiment"))
        return experiment_view(done.after)

    def _path(self, ctx: RequestContext, experiment_id: str) -> str:
        if not experiment_id.startswith(ID_PREFIX) or len(experiment_id) != len(ID_PREFIX) + 16:
            raise errors.NotFound("no such experiment")
        return paths.experiment(ctx.tenant_id, ctx.env, experiment_id)


def _patched(data: dict[str, Any], patch: ExperimentPatch, changed: set[str]) -> dict[str, Any]:
    status = data["status"]
    new = dict(data)
    if patch.status is not None and patch.status != status:
        if patch.status not in _NEXT[status]:
            raise errors.StudioError(STATUS_TRANSITION_INVALID, f"{status} cannot become {patch.status}")
        new["status"] = patch.status
        new[f"{'started' if patch.status == 'running' else 'stopped'}_at"] = utc_now()
    definition_fields = changed - {"name", "description", "status"}
    if status == "stopped" and definition_fields:
        raise errors.StudioError(DEFINITION_LOCKED, "a stopped experiment changes only its name and description")
    if status == "running" and definition_fields & set(_FIXED_WHILE_RUNNING):
        raise errors.StudioError(DEFINITION_LOCKED, "a running experiment keeps its variations")
    if patch.name is not None:
        new["name"] = patch.name
    if patch.description is not None:
        new["description"] = patch.description
    if patch.variations is not None:
        new["variations"] = _variations(patch.variations)
    if patch.weights is not None:
        if len(patch.weights) != len(new["variations"]):
            raise errors.StudioError(WEIGHTS_INVALID, "one weight per variation")
        weights = checked_weights(list(patch.weights))
        new["variations"] = [dict(v, weight=w) for v, w in zip(new["variations"], weights, strict=True)]
    if patch.coverage is not None:
        new["coverage"] = patch.coverage
    if "condition" in changed:
        new["condition_json"] = _condition_json(patch.condition)
    if "namespace" in changed:
        new["namespace"] = patch.namespace.model_dump() if patch.namespace else None
    if "metric" in changed:
        new["metric"] = patch.metric.model_dump() if patch.metric else None
    return new

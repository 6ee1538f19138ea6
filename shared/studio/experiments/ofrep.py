"""Flag evaluation over the OpenFeature Remote Evaluation Protocol (OFREP, open-feature/protocol).

``POST /ofrep/v1/evaluate/flags/{key}`` answers ``{key, value, reason, variant, metadata}``;
``POST /ofrep/v1/evaluate/flags`` answers ``{flags: [...]}`` for every flag of the tenant env, with
an ETag over that answer, so a client provider polling with ``If-None-Match`` gets 304 until a flag
or its own assignment changes. Errors carry OFREP's ``errorCode`` and ``errorDetails`` beside the
problem+json members, so the SDKs' OFREP providers read them unchanged.

The context maps to GrowthBook attributes: its members as they are, with ``targetingKey`` as ``id``
when the context has no ``id`` of its own (the attribute experiments hash by default), and the
subject's analytics signals as ``signals`` when a condition names them (``experiments.signals``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from studio.experiments import conditions, definitions, hashing, paths, signals
from studio.experiments.enrolment import Enrolment
from studio.experiments.errors import FLAG_NOT_FOUND, OFREP_CONTEXT_INVALID
from studio.kernel import errors
from studio.ports.store import Document, DocumentStore, Query

MAX_CONTEXT_BYTES = 16 * 1024
MIN_POLLING_MS = 30_000  # what client providers may poll the bulk evaluation at, at most
MAX_FLAGS = 500
DEFAULT_VARIANT = "default"


def attributes_of(context: Any) -> dict[str, Any]:
    """The GrowthBook attributes of an OFREP context; INVALID_CONTEXT when it is not one."""
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise context_error("the context is a JSON object")
    if len(json.dumps(context, separators=(",", ":"))) > MAX_CONTEXT_BYTES:
        raise context_error(f"the context holds at most {MAX_CONTEXT_BYTES} bytes")
    key = context.get("targetingKey")
    if key is not None and (not isinstance(key, str) or len(key) > 256):
        raise context_error("targetingKey is a string of at most 256 characters")
    attributes = dict(context)
    if key and "id" not in attributes:
        attributes["id"] = key
    return attributes


def context_error(detail: str, key: str | None = None) -> errors.StudioError:
    err = errors.StudioError(OFREP_CONTEXT_INVALID, detail, errorCode="INVALID_CONTEXT", errorDetails=detail)
    if key:
        err.extra["key"] = key
    return err


def not_found(key: str) -> errors.StudioError:
    detail = f"no flag {key!r} here"
    return errors.StudioError(FLAG_NOT_FOUND, detail, key=key, errorCode="FLAG_NOT_FOUND", errorDetails=detail)


def configuration() -> dict[str, Any]:
    """What ``GET /ofrep/v1/configuration`` tells providers that opt in to asking."""
    return {"name": "studio",
            "capabilities": {"cacheInvalidation": {"polling": {"enabled": True, "minPollingIntervalMs": MIN_POLLING_MS}},
                             "flagEvaluation": {"supportedTypes": ["boolean", "string", "int", "float", "object"]}}}


def bulk_etag(flags: list[dict[str, Any]]) -> str:
    """A tag over what a client acts on (key, value, variant, reason, error): not the metadata, whose
    ``sticky`` turns true on the second evaluation of a new subject without changing its answer."""
    served = [{k: f.get(k) for k in ("key", "value", "variant", "reason", "errorCode")} for f in flags]
    canonical = json.dumps(served, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


class Subject:
    """One evaluation's attributes; the subject's signals are read the first time a condition names them."""

    def __init__(self, tenant_id: str, env: str, attributes: Mapping[str, Any],
                 read_signals: signals.SignalReader | None) -> None:
        self.tenant_id, self.env = tenant_id, env
        self._plain = attributes
        self._with_signals: Mapping[str, Any] | None = None
        self._read = read_signals

    def attributes(self, condition: Any) -> Mapping[str, Any]:
        if self._read is None or not signals.names_signals(condition):
            return self._plain if self._with_signals is None else self._with_signals
        if self._with_signals is None:
            self._with_signals = signals.with_signals(self._read, self.tenant_id, self.env, self._plain)
        return self._with_signals


class FlagEvaluator:
    def __init__(self, store: DocumentStore, enrolment: Enrolment,
                 read_signals: signals.SignalReader | None = None) -> None:
        self._store = store
        self._enrolment = enrolment
        self._read_signals = read_signals

    def evaluate(self, tenant_id: str, env: str, key: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
        doc = self._store.get(paths.flag(tenant_id, env, key)) if _plausible_key(key) else None
        if doc is None:
            raise not_found(key)
        return self._evaluate_doc(tenant_id, env, doc, Subject(tenant_id, env, attributes, self._read_signals))

    def evaluate_all(self, tenant_id: str, env: str, attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
        page = self._store.query(Query(paths.flags(tenant_id, env), limit=MAX_FLAGS))
        subject = Subject(tenant_id, env, attributes, self._read_signals)
        return [self._evaluate_doc(tenant_id, env, doc, subject) for doc in sorted(page.docs, key=lambda d: d.doc_id)]

    def _evaluate_doc(self, tenant_id: str, env: str, doc: Document, subject: Subject) -> dict[str, Any]:
        key, data = doc.doc_id, doc.data
        default = json.loads(data["default_json"])
        if data["status"] != "running":
            return _success(key, default, "DISABLED", DEFAULT_VARIANT, {"flag_rev": doc.rev})
        for index, rule in enumerate(data["rules"]):
            if rule["kind"] == "force":
                if self._force_applies(key, rule, subject):
                    return _success(key, json.loads(rule["value_json"]), "TARGETING_MATCH", f"rule-{index}",
                                    {"flag_rev": doc.rev, "rule": index})
                continue
            served = self._from_experiment(tenant_id, env, rule["experiment_id"], subject)
            if served is not None:
                value, variant, metadata = served
                return _success(key, value, "SPLIT", variant, {"flag_rev": doc.rev, "rule": index, **metadata})
        return _success(key, default, "DEFAULT", DEFAULT_VARIANT, {"flag_rev": doc.rev})

    @staticmethod
    def _force_applies(flag_key: str, rule: dict[str, Any], subject: Subject) -> bool:
        condition = None if rule["condition_json"] is None else json.loads(rule["condition_json"])
        attributes = subject.attributes(condition)
        if not conditions.matches(attributes, condition):
            return False
        value = hashing.hash_string(attributes.get(rule["hash_attribute"]))
        return hashing.in_rollout(flag_key, value, rule["coverage"])

    def _from_experiment(self, tenant_id: str, env: str, experiment_id: str,
                         subject: Subject) -> tuple[Any, str, dict[str, Any]] | None:
        doc = self._store.get(paths.experiment(tenant_id, env, experiment_id))
        if doc is None or doc.data["status"] != "running":
            return None
        defn = definitions.definition(doc)
        enrolled = self._enrolment.enrol(tenant_id, env, experiment_id, defn, subject.attributes(defn.condition))
        result = enrolled.assignment
        if not result.in_experiment:
            return None
        variation = doc.data["variations"][result.variation]
        return (json.loads(variation["value_json"]), variation["key"],
                {"experiment_id": experiment_id, "experiment_key": defn.key, "variation": result.variation,
                 "sticky": result.sticky})


def _success(key: str, value: Any, reason: str, variant: str, metadata: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value, "reason": reason, "variant": variant, "metadata": metadata}


def _plausible_key(key: str) -> bool:
    return 0 < len(key) <= 64 and all(c.isascii() and (c.isalnum() or c in "_.-") for c in key)

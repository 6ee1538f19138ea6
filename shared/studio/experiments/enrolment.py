"""Sticky assignments and exposures: what an evaluation writes once per subject.

The first time a subject is bucketed into a running experiment, one transaction creates its
sticky assignment (``assignments/{subject}``), its exposure (``exposures/{subject}_{variation}``)
and, through the outbox, the exposure's row for the analytics store (topic ``analytics.events``).
Creation is the deduplication: two concurrent first evaluations serialise on the store, the
second finds both documents and writes nothing, so a subject is exposed to a variation once
however many instances evaluate it at the same moment. Later evaluations read the assignment and
honour it even after the weights change (GrowthBook's sticky bucketing).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.experiments import assignment, hashing, paths
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.ports.analytics import TOPIC as ANALYTICS_TOPIC
from studio.ports.analytics import encode_message, message_attributes
from studio.ports.store import Document, DocumentStore, OutboxMessage, Transaction

# Hashing on these attributes means a signed-in user: the exposure (and the results' join) uses user_id;
# any other hash attribute (anonymous_id, device_id, session ...) is an anonymous subject.
USER_ATTRIBUTES = frozenset({"id", "user_id", "userId", "targetingKey"})
_KNOWN_MAX = 200_000


def subject_column(hash_attribute: str) -> str:
    """The analytics column that holds an experiment's subjects."""
    return "user_id" if hash_attribute in USER_ATTRIBUTES else "anonymous_id"


@dataclass(frozen=True)
class Enrolled:
    assignment: assignment.Assignment
    exposed_now: bool  # this call recorded the exposure (False: recorded before, or not in)


def exposure_row(tenant_id: str, env: str, experiment_id: str, defn: assignment.Definition,
                 result: assignment.Assignment, attributes: Mapping[str, Any], time: str) -> dict[str, Any]:
    """The exposure as a row of the analytics ``events`` table; its id is derived, so a replay is a no-op."""
    digest = hashlib.sha256(f"{tenant_id}/{env}/{experiment_id}/{result.hash_attribute}/{result.hash_value}/"
                            f"{result.variation}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    column = subject_column(defn.hash_attribute)
    other = "anonymous_id" if column == "user_id" else "user_id"
    other_value = attributes.get(other) or attributes.get("anonymousId" if other == "anonymous_id" else "userId")
    session = attributes.get("session_id") or attributes.get("sessionId")
    return {
        "event_id": "exp_" + digest, "tenant_id": tenant_id, "env": env, "type": "exposure", "ts": time,
        column: result.hash_value, other: other_value if isinstance(other_value, str) else None,
        "session_id": session if isinstance(session, str) else None,
        "name": defn.key,
        "props": json.dumps({"experiment_id": experiment_id, "variation": result.variation,
                             "variation_key": defn.variation_keys[result.variation],
                             "hash_attribute": defn.hash_attribute}, separators=(",", ":")),
    }


class Enrolment:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._known: set[str] = set()  # exposure paths this instance saw stored: no read needed again

    def enrol(self, tenant_id: str, env: str, experiment_id: str, defn: assignment.Definition,
              attributes: Mapping[str, Any]) -> Enrolled:
        """Assign the subject (sticky first), and record its assignment and exposure once."""
        hash_value = hashing.hash_string(attributes.get(defn.hash_attribute))
        if not hash_value or not defn.running:
            return Enrolled(assignment.assign(defn, attributes), False)
        subject = paths.subject_token(defn.hash_attribute, hash_value)
        sticky_path = paths.assignment(tenant_id, env, experiment_id, subject)
        sticky = self._store.get(sticky_path)
        result = assignment.assign(defn, attributes, _variation_of(sticky))
        if not result.in_experiment:
            return Enrolled(result, False)
        exposure_path = paths.exposure(tenant_id, env, experiment_id, subject, result.variation)
        if sticky is not None and (exposure_path in self._known or self._store.get(exposure_path) is not None):
            self._remember(exposure_path)
            return Enrolled(result, False)

        def write(tx: Transaction) -> tuple[assignment.Assignment, bool]:
            # Every read before the first write (Firestore transactions require it).
            current = tx.get(sticky_path)
            final = result
            if current is not None and _variation_of(current) != result.variation:
                final = assignment.assign(defn, attributes, _variation_of(current))  # bucketed elsewhere first
            path = paths.exposure(tenant_id, env, experiment_id, subject, final.variation)
            exposed_before = tx.get(path) is not None
            now = utc_now()
            if current is None:
                tx.create(sticky_path, {"variation": final.variation, "hash_attribute": defn.hash_attribute,
                                        "assigned_at": now})
            if exposed_before:
                return final, False
            tx.create(path, {"variation": final.variation, "exposed_at": now})
            row = exposure_row(tenant_id, env, experiment_id, defn, final, attributes, now)
            tx.emit(OutboxMessage(id=row["event_id"], topic=ANALYTICS_TOPIC, data=encode_message(row),
                                  attributes=message_attributes(row)))
            return final, True

        try:
            final, exposed = self._store.run_transaction(write)
        except errors.AlreadyExists:  # a concurrent writer won the create between our read and write
            final, exposed = self._store.run_transaction(write)
        self._remember(paths.exposure(tenant_id, env, experiment_id, subject, final.variation))
        return Enrolled(final, exposed)

    def _remember(self, exposure_path: str) -> None:
        if len(self._known) >= _KNOWN_MAX:
            self._known.clear()
        self._known.add(exposure_path)


def _variation_of(doc: Document | None) -> int | None:
    return None if doc is None else int(doc.data["variation"])

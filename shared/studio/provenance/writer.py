"""The ``provenance_writer`` consumer: appends the ``provenance`` object of each domain event to the
tenant's ledger, once.

It takes any domain event (``domain.media`` today; render and tools later) and reads
``data.provenance`` (``models.ProvenanceRecord``). Events without one are acknowledged and skipped.
The append and the event's dedupe marker commit in one transaction (``kernel.dedupe.apply_once``,
keyed by the domain event's id), so a redelivery appends nothing. A malformed record raises: the bus
retries it and dead-letters it, never acks and drops it.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from studio.kernel import cloudevents, errors, logs
from studio.kernel.dedupe import apply_once
from studio.kernel.deps import Deps, Slot
from studio.ports.store import DocumentStore, Transaction
from studio.provenance.ledger import append_in, as_record
from studio.provenance.models import ProvenanceRecord

CONSUMER = "provenance_writer"
ENVS = ("dev", "staging", "prod")
_TENANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_log = logs.get("studio.provenance.writer")
Outcome = Literal["appended", "duplicate", "skipped"]


class MalformedProvenance(errors.StudioError):
    def __init__(self, detail: str, *, field_errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(errors.VALIDATION_FAILED, detail, errors=field_errors)


def decode(cloud_event: Any) -> tuple[dict[str, Any], ProvenanceRecord | None]:
    """(the domain event, its provenance record or None) of a ``messagePublished`` CloudEvent."""
    try:
        payload = cloudevents.decode_pubsub(cloud_event)
        event = payload.json()
    except errors.StudioError as exc:
        raise MalformedProvenance(f"not a Pub/Sub message with a JSON body: {exc.detail}") from exc
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise MalformedProvenance("not a domain event (no data object)")
    for name in ("id", "tenant_id", "env", "type"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise MalformedProvenance(f"domain event without {name}")
    if event["env"] not in ENVS:
        raise MalformedProvenance(f"unknown env {event['env']!r}")
    if not _TENANT_ID.fullmatch(event["tenant_id"]):  # one path segment: never a way into another tree
        raise MalformedProvenance("the tenant id is not a tenant id")
    attrs = payload.attributes  # they route the message; a body naming another tenant is refused
    if attrs.get("tenant", event["tenant_id"]) != event["tenant_id"] or attrs.get("env", event["env"]) != event["env"]:
        raise MalformedProvenance("tenant/env attributes differ from the event body")
    raw = event["data"].get("provenance")
    if raw is None:
        return event, None
    if not isinstance(raw, dict):
        raise MalformedProvenance(f"{event['type']}: provenance is not an object")
    try:
        return event, as_record(raw)
    except errors.StudioError as exc:
        raise MalformedProvenance(f"{event['type']}: invalid provenance ({len(exc.errors)} field(s))",
                                  field_errors=exc.errors) from None


class ProvenanceWriter:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def handle(self, cloud_event: Any) -> Outcome:
        try:
            event, record = decode(cloud_event)
        except MalformedProvenance as exc:
            _log.warning("malformed provenance event", extra={"fields": {"error": exc.detail, "errors": exc.errors}})
            raise
        if record is None:
            return "skipped"

        def effect(tx: Transaction) -> None:
            append_in(tx, event["tenant_id"], event["env"], record, source_event_id=event["id"])

        outcome: Outcome = "appended" if apply_once(self._store, CONSUMER, event["id"], effect) else "duplicate"
        _log.info("provenance %s", outcome, extra={"fields": {
            "event_id": event["id"], "type": event["type"], "tenant_id": event["tenant_id"], "env": event["env"]}})
        return outcome


WRITER: Slot[ProvenanceWriter] = Slot("provenance.writer")


def writer_for(deps: Deps) -> ProvenanceWriter:
    return deps.memo(WRITER, lambda: ProvenanceWriter(deps.store))

"""The ``dataset-events`` consumer and the read side of the event store.

Layout (BLUEPRINT 4):

* ``tenants/{t}/envs/{e}/dataset_events/{event_id}``: one DatasetEvent, camelCase as logged.
* ``tenants/{t}/envs/{e}/metrics/dataset_events/shards/{n}``: ``{written, duplicates}`` of the
  tenant, as N counter shards. One counter document would take every event's write: Firestore
  sustains ~1 write/s per document, so a hot counter would cap the whole pipeline and make the
  write transactions contend. The shard is picked by a hash of the event id (a retried
  transaction hits the same shard); readers sum the N documents.
* ``system/metrics/counters/dataset_events/shards/{n}``: ``{rejected}``, deliveries refused as
  malformed. Platform-wide because a malformed message may name no tenant.

A delivery writes the event, its dedupe marker (``kernel.dedupe.apply_once``, keyed by the
event id so a republished copy with a new message id is caught too) and the ``written``
increment in one transaction: a redelivery writes nothing. A redelivery's ``duplicates``
increment is a transaction of its own (apply_once runs no effect for it), so a crash between
the two can miss one duplicate count: it is a diagnostic, not an invariant.

A malformed message raises MalformedDatasetEvent: the delivery fails, the bus retries it
with backoff and dead-letters it after the last attempt. It is never acked and dropped.
This module does not import the PII filter: the writer is deployed without that dependency
group, and the logger (the only producer) has scrubbed each event before publishing it.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

from studio.events.wire import EVENT_TYPE, TOPIC, rfc3339
from studio.kernel import cloudevents, errors, logs
from studio.kernel.dedupe import apply_once
from studio.kernel.deps import Deps, Slot
from studio.kernel.json_input import finite_only
from studio.kernel.paths import tenant_collection, tenant_root
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction

if TYPE_CHECKING:  # imported where a record is checked: an empty read needs no pydantic (decision 0097)
    from studio.events.models import DatasetEvent, DatasetEventCounters, DatasetEventQuery

CONSUMER = "dataset_event_writer"
COLLECTION = "dataset_events"
SHARDS = 16
PLATFORM_SHARDS = "system/metrics/counters/dataset_events/shards"

_log = logs.get("studio.events.writer")
Outcome = Literal["written", "duplicate"]


class MalformedDatasetEvent(errors.StudioError):
    """A message on ``dataset-events`` that is not a valid DatasetEvent: fail the delivery."""

    def __init__(self, detail: str, *, field_errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(errors.VALIDATION_FAILED, detail, errors=field_errors)


def event_path(tenant_id: str, env: str, event_id: str) -> str:
    return f"{tenant_collection(tenant_id, env, COLLECTION)}/{event_id}"


def tenant_shards(tenant_id: str, env: str) -> str:
    return f"{tenant_root(tenant_id, env)}/metrics/dataset_events/shards"


def _shard(key: str) -> str:
    return str(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % SHARDS)


def _bumped(doc: Document | None, counter: str) -> dict[str, Any]:
    data = dict(doc.data) if doc is not None else {}
    data[counter] = int(data.get(counter, 0)) + 1
    return data


def _increment(tx: Transaction, path: str, counter: str) -> None:
    tx.put(path, _bumped(tx.get(path), counter))


def decode(cloud_event: Any) -> DatasetEvent:
    """The DatasetEvent in a ``messagePublished`` CloudEvent; MalformedDatasetEvent otherwise."""
    try:
        payload = cloudevents.decode_pubsub(cloud_event)
        body = payload.json()
    except errors.StudioError as exc:
        raise MalformedDatasetEvent(f"not a Pub/Sub message with a JSON body: {exc.detail}") from exc
    if payload.topic is not None and payload.topic != TOPIC:
        raise MalformedDatasetEvent(f"message from topic {payload.topic!r}, expected {TOPIC!r}")
    if payload.attributes.get("type", EVENT_TYPE) != EVENT_TYPE:
        raise MalformedDatasetEvent(f"message type {payload.attributes['type']!r}, expected {EVENT_TYPE!r}")
    from pydantic import ValidationError

    from studio.events.models import DatasetEvent

    try:
        record = DatasetEvent.model_validate(body)
    except ValidationError as exc:
        items = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                 for e in exc.errors(include_url=False, include_context=False, include_input=False)]
        raise MalformedDatasetEvent(f"not a DatasetEvent: {len(items)} invalid field(s)", field_errors=items) from None
    # The attributes route and filter the message; a body for another tenant is refused, not "fixed".
    attrs = payload.attributes
    if attrs.get("tenant", record.tenant_id) != record.tenant_id or attrs.get("env", record.env) != record.env:
        raise MalformedDatasetEvent("tenant/env attributes differ from the event body")
    return record


class DatasetEventWriter:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def handle(self, cloud_event: Any) -> Outcome:
        """Store one delivered event, once. Raises (never drops) when the message is malformed."""
        try:
            record = decode(cloud_event)
        except MalformedDatasetEvent as exc:
            key = str(_attribute(cloud_event, "id") or "")
            self._store.run_transaction(
                lambda tx: _increment(tx, f"{PLATFORM_SHARDS}/{_shard(key)}", "rejected"))
            _log.warning("malformed dataset event", extra={"fields": {
                "cloudevent_id": key, "error": exc.detail, "errors": exc.errors}})
            raise
        counters = f"{tenant_shards(record.tenant_id, record.env)}/{_shard(record.event_id)}"
        outcome: list[Outcome] = ["duplicate"]

        def effect(tx: Transaction) -> None:
            # Every read before the first write: Firestore transactions require it.
            path = event_path(record.tenant_id, record.env, record.event_id)
            existing, shard = tx.get(path), tx.get(counters)
            if existing is not None:  # stored, but its marker is gone (e.g. expired): still once
                tx.put(counters, _bumped(shard, "duplicates"))
                return
            tx.create(path, record.model_dump(mode="json", by_alias=True))
            tx.put(counters, _bumped(shard, "written"))
            outcome[0] = "written"

        if not apply_once(self._store, CONSUMER, record.event_id, effect):
            self._store.run_transaction(lambda tx: _increment(tx, counters, "duplicates"))
        _log.info("dataset event %s", outcome[0], extra={"fields": {
            "event_id": record.event_id, "tenant_id": record.tenant_id, "env": record.env}})
        return outcome[0]


def _attribute(cloud_event: Any, name: str) -> Any:
    try:
        return cloud_event[name]
    except (KeyError, TypeError):
        return None


# -- reads ------------------------------------------------------------------------------


def list_events(store: DocumentStore, tenant_id: str, env: str, q: DatasetEventQuery) -> dict[str, Any]:
    """Newest first. Needs Firestore composite indexes on (surface|agentId, createdAt desc). A
    DatasetEventPage as JSON: each stored record is checked by the model (``_readable``), so an empty
    page imports no pydantic."""
    filters: list[Filter] = []
    if q.surface is not None:
        filters.append(Filter("surface", "==", q.surface))
    if q.agent is not None:
        filters.append(Filter("agentId", "==", q.agent))
    # createdAt is stored fixed-width UTC, so string order is time order.
    if q.since is not None:
        filters.append(Filter("createdAt", ">=", rfc3339(q.since)))
    if q.until is not None:
        filters.append(Filter("createdAt", "<", rfc3339(q.until)))
    page = store.query(Query(tenant_collection(tenant_id, env, COLLECTION), filters,
                             [("createdAt", "desc")], q.limit, q.page_token or None))
    events = [event for event in map(_readable, page.docs) if event is not None]
    return {"events": [event.model_dump(mode="json", by_alias=True) for event in events],
            "next_page_token": page.next_cursor, "unreadable": len(page.docs) - len(events)}


def _readable(doc: Document) -> DatasetEvent | None:
    """A stored event as the API shows it. One bad record (stored by an older build, e.g. with
    NaN in its input) must not take the tenant's whole listing down: it is left out, logged and
    counted, never a 500."""
    from pydantic import ValidationError

    from studio.events.models import DatasetEvent

    try:
        return DatasetEvent.model_validate(finite_only(doc.data))
    except ValidationError as exc:
        _log.error("stored dataset event is not readable", extra={"fields": {
            "path": doc.path, "errors": exc.error_count()}})
        return None


def _sum(store: DocumentStore, collection: str, *names: str) -> dict[str, int]:
    totals = dict.fromkeys(names, 0)
    for doc in store.query(Query(collection, limit=SHARDS)).docs:
        for name in names:
            totals[name] += int(doc.data.get(name, 0))
    return totals


def read_counters(store: DocumentStore, tenant_id: str, env: str) -> DatasetEventCounters:
    from studio.events.models import DatasetEventCounters

    return DatasetEventCounters(**_sum(store, tenant_shards(tenant_id, env), "written", "duplicates"))


def read_rejected(store: DocumentStore) -> int:
    return _sum(store, PLATFORM_SHARDS, "rejected")["rejected"]


WRITER: Slot[DatasetEventWriter] = Slot("events.writer")


def writer_for(deps: Deps) -> DatasetEventWriter:
    """The instance's writer (what the writer function's entrypoint calls)."""
    return deps.memo(WRITER, lambda: DatasetEventWriter(deps.store))

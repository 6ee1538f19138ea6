"""The ``analytics.events`` consumer: stores each row in the analytics store and folds it into signals.

One message is one row (``studio.ports.analytics.encode_message``), from the ingest routes or any other
domain (experiment exposures). Locally this writer inserts the row into DuckDB; on Google Cloud the
Pub/Sub-to-BigQuery subscription loads the table from the same topic (terraform/analytics.tf), so the
writer leaves that to it and only keeps the signals (decision 0055). Both steps tolerate redelivery: the
table keeps one row per event_id, and signals apply an event id once (kernel/dedupe.py).

A malformed message raises: the bus retries it, then dead-letters it; it is never acked and dropped.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from studio.analytics.signals import SignalService
from studio.kernel import cloudevents, errors, logs
from studio.kernel.deps import Deps, Slot
from studio.ports.analytics import COLUMNS, TOPIC, AnalyticsStore

_log = logs.get("studio.analytics.writer")
_REQUIRED = ("tenant_id", "env", "event_id", "type", "ts")


class MalformedAnalyticsEvent(errors.StudioError):
    def __init__(self, detail: str) -> None:
        super().__init__(errors.VALIDATION_FAILED, detail)


def decode(cloud_event: Any) -> dict[str, Any]:
    """The row in a ``messagePublished`` CloudEvent, ``ts`` as an aware datetime."""
    try:
        payload = cloudevents.decode_pubsub(cloud_event)
        row = json.loads(payload.data)
    except (errors.StudioError, ValueError) as exc:
        raise MalformedAnalyticsEvent(f"not a Pub/Sub message with a JSON body: {exc}") from exc
    if payload.topic is not None and payload.topic != TOPIC:
        raise MalformedAnalyticsEvent(f"message from topic {payload.topic!r}, expected {TOPIC!r}")
    if not isinstance(row, dict) or set(row) - set(COLUMNS):
        raise MalformedAnalyticsEvent("the body is not an analytics row")
    missing = [k for k in _REQUIRED if not isinstance(row.get(k), str) or not row.get(k)]
    if missing:
        raise MalformedAnalyticsEvent(f"the row lacks {', '.join(missing)}")
    try:
        row["ts"] = datetime.fromisoformat(row["ts"].replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise MalformedAnalyticsEvent("ts is not an RFC 3339 time") from exc
    if isinstance(row.get("props"), str):
        try:
            row["props"] = json.loads(row["props"])
        except ValueError as exc:
            raise MalformedAnalyticsEvent("props is not JSON") from exc
    return row


class AnalyticsWriter:
    def __init__(self, signals: SignalService, store: AnalyticsStore | None) -> None:
        self._signals = signals
        self._store = store  # None: the Pub/Sub-to-BigQuery subscription loads the table

    def handle(self, cloud_event: Any) -> None:
        row = decode(cloud_event)
        self.write([row])

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self._store is not None:
            self._store.insert(rows)
        for row in rows:
            self._signals.apply_event(row)


WRITER: Slot[AnalyticsWriter] = Slot("analytics.writer")


def writer_for(deps: Deps) -> AnalyticsWriter:
    """The instance's writer (the writer function's entrypoint calls it). It imports no ingest code: the
    writer is deployed with the core dependencies only (no PII filter, no DuckDB on Google Cloud)."""
    return deps.memo(WRITER, lambda: AnalyticsWriter(
        SignalService(deps.store), deps.analytics if deps.settings.analytics == "embedded" else None))

"""DatasetEvent logging: the library call every domain uses (the chat pipeline, analytics ...).

``log`` strips PII, stamps the user's durable training preference and publishes the event to
the ``dataset-events`` topic; the writer function stores it (``store_writer``). Nothing here is
best effort: when the bus refuses the message the caller gets the error, because an event
that silently vanished is exactly what H29 forbids.

Why publish straight to the bus and not through the store's outbox: logging changes no
document of the caller, so there is no write for the event to share a commit with; an outbox
row would be one more write per event and move the failure out of the caller's sight.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from studio.events.training_prefs import TrainingPrefsRepo
from studio.events.wire import EVENT_TYPE, TOPIC
from studio.kernel import errors, logs, tx_journal
from studio.kernel.context import RequestContext
from studio.kernel.problems import from_validation_error
from studio.ports.bus import Bus

if TYPE_CHECKING:  # imported where an event is built: holding a logger costs no pydantic (decision 0097)
    from studio.events.models import DatasetEvent, DatasetEventIn

_log = logs.get("studio.events.logger")


def new_event_id() -> str:
    # Under an Idempotency-Key every attempt publishes the same id, and the writer stores an id once:
    # a retry after a crash between the publish and the reply cannot log the event twice.
    journal = tx_journal.active()
    return "dse_" + (journal.stable_token("dataset_event") if journal is not None else uuid.uuid4().hex)


def encode(event: DatasetEvent) -> bytes:
    """The message body: the stored document's shape (camelCase, fixed-width createdAt)."""
    return json.dumps(event.model_dump(mode="json", by_alias=True), separators=(",", ":")).encode()


def attributes(event: DatasetEvent) -> dict[str, str]:
    # tenant/env/type, as every bus message carries, so subscriptions can filter without decoding.
    return {"tenant": event.tenant_id, "env": event.env, "type": EVENT_TYPE}


class DatasetEventLogger:
    def __init__(self, bus: Bus, prefs: TrainingPrefsRepo) -> None:
        self._bus = bus
        self._prefs = prefs

    def log(self, ctx: RequestContext, event: DatasetEventIn) -> str:
        """Scrub, apply the training preference, publish; returns the event id.

        Raises StudioError: FORBIDDEN when a user logs as someone else, UNAVAILABLE when
        the bus cannot take the message (the caller may retry; nothing was published).
        """
        record = self.prepare(ctx, event)
        self.publish(record)
        return record.event_id

    def prepare(self, ctx: RequestContext, event: DatasetEventIn) -> DatasetEvent:
        from studio.privacy.pii import scrub_value  # its recognisers load with the first event logged

        user_id = _acting_user(ctx, event.user_id)
        found: list[str] = []
        scrubbed: dict[str, object] = {}
        for name in ("input", "output", "metadata", "tags"):
            value, types = scrub_value(getattr(event, name))
            scrubbed[name] = value
            found.extend(str(t) for t in types)
        fields = event.model_dump(exclude={"tenant_id", "env", "user_id", *scrubbed})
        from pydantic import ValidationError

        from studio.events.models import DatasetEvent

        try:
            # Validated, not constructed: the scrubbed values and ctx.env are checked like any input.
            return DatasetEvent.model_validate({
                **fields, **scrubbed,
                "event_id": new_event_id(), "tenant_id": ctx.tenant_id, "env": ctx.env, "user_id": user_id,
                "created_at": datetime.now(UTC),
                "train_ok": self._prefs.train_ok(ctx.tenant_id, ctx.env, user_id),
                "pii_redacted": sorted(set(found)),
            })
        except ValidationError as exc:  # e.g. redaction markers pushed the payload over its size limit
            raise from_validation_error(exc, location="event") from None

    def publish(self, record: DatasetEvent) -> str:
        try:
            message_id = self._bus.publish(TOPIC, encode(record), attributes(record))
        except errors.StudioError:
            raise
        except Exception as exc:  # an adapter's own error type: surfaced as 503, never swallowed
            _log.error("dataset event not published", extra={"fields": {
                "event_id": record.event_id, "tenant_id": record.tenant_id, "error": repr(exc)}})
            raise errors.Unavailable("dataset event could not be published; retry") from exc
        _log.info("dataset event published", extra={"fields": {
            "event_id": record.event_id, "message_id": message_id, "tenant_id": record.tenant_id,
            "env": record.env, "surface": record.surface, "pii_redacted": record.pii_redacted}})
        return message_id


def _acting_user(ctx: RequestContext, claimed: str | None) -> str | None:
    """Whose event this is. A user logs as themselves; a service identity names the user (or none)."""
    if ctx.is_system:
        return claimed
    if claimed is not None and claimed != ctx.user_id:
        raise errors.StudioError(errors.FORBIDDEN, "userId must be the caller's own id")
    return ctx.user_id

"""Publishing to a tenant's meta channel: the one small API through which any capability
(media ingest, render, audits...) reports progress and results to that tenant's live clients.

An event is ``{id, type, tenant_id, env, time, data}`` on the bus topic ``realtime.meta``;
every realtime gateway instance pulls the topic and hands each event to the tenant's open
``/sse/meta`` and ``/ws/meta`` streams (``studio.realtime.meta.MetaHub``). The publisher
never imports the gateway. A channel, not a log: a client that is away misses what is sent.

- ``publish_meta(bus, ...)``: at once, e.g. a render job's percentage from its worker;
- ``emit_meta(tx, ...)``: through the outbox, published only if the transaction commits, for
  an event that reports a state change (a job finished, an audit result stored).
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.ports.bus import Bus
from studio.ports.store import Transaction

TOPIC = "realtime.meta"
# "<capability>.<what>", e.g. "render.progress", "media.ingested", "audit.result"
_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_BYTES = 16 * 1024  # progress, not payloads: clients fetch the resource itself for more


def _checked(kind: str, payload: dict[str, Any]) -> None:
    if not _KIND.match(kind) or len(kind) > 100:
        raise ValueError(f"meta event kind {kind!r} must look like 'render.progress'")
    if len(json.dumps(payload, allow_nan=False)) > MAX_BYTES:
        raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"meta events carry at most {MAX_BYTES} bytes of data")


def publish_meta(bus: Bus, tenant_id: str, env: str, kind: str, payload: dict[str, Any]) -> str:
    """Send ``payload`` as a ``kind`` event to the tenant's live clients now; returns the bus message id."""
    _checked(kind, payload)
    body = {"id": "mt_" + uuid.uuid4().hex, "type": kind, "tenant_id": tenant_id, "env": env,
            "time": utc_now(), "data": payload}
    return str(bus.publish(TOPIC, json.dumps(body, allow_nan=False).encode(),
                           {"tenant": tenant_id, "env": env, "type": kind}))


def emit_meta(tx: Transaction, tenant_id: str, env: str, kind: str, payload: dict[str, Any],
              subject: str) -> DomainEvent:
    """The same event, written to the outbox in ``tx``: relayed to the bus once ``tx`` commits.
    ``subject`` is the resource it is about (its path), which keeps its events in order."""
    _checked(kind, payload)
    return emit(tx, DomainEvent(kind, tenant_id, env, subject, payload), topic=TOPIC)

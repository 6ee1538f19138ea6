"""Domain events: small records written to the outbox in the same commit as the change.

Topic per domain; attributes carry tenant, env and type so subscribers can filter.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from studio.kernel.clock import utc_now
from studio.ports.store import OutboxMessage, Transaction


@dataclass(frozen=True)
class DomainEvent:
    type: str  # e.g. "tenant.renamed"
    tenant_id: str
    env: str
    subject: str  # the aggregate, e.g. "tenants/t_abc"
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: "ev_" + uuid.uuid4().hex)
    time: str = field(default_factory=utc_now)

    @property
    def domain(self) -> str:
        return self.type.split(".", 1)[0]

    def summary(self) -> dict[str, str]:
        return {"id": self.id, "type": self.type, "subject": self.subject}

    def to_outbox(self, topic: str) -> OutboxMessage:
        body = {"id": self.id, "type": self.type, "tenant_id": self.tenant_id, "env": self.env,
                "subject": self.subject, "time": self.time, "data": self.data}
        return OutboxMessage(
            id=self.id, topic=topic, data=json.dumps(body, separators=(",", ":")).encode(),
            attributes={"tenant": self.tenant_id, "env": self.env, "type": self.type},
            ordering_key=self.subject,
        )


def emit(tx: Transaction, event: DomainEvent, topic: str | None = None) -> DomainEvent:
    tx.emit(event.to_outbox(topic or f"domain.{event.domain}"))
    return event

"""The DatasetEvent API's shapes (CAPABILITIES H29).

A DatasetEvent keeps the audit's camelCase names on the wire and in the stored document
(``tenantId``, ``env``, ``surface``, ``agentId``, ``input``, ``output``, ...); Python code uses
snake_case and both spellings are accepted on input. Envelopes around it (``event_id``,
``next_page_token``, training prefs) follow the rest of the API: snake_case.

This module imports nothing from the PII filter: the writer function loads it and is
deployed without the ``privacy`` dependency group.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AwareDatetime,
    ConfigDict,
    Field,
    JsonValue,
    field_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

from studio.events.wire import EVENT_TYPE as EVENT_TYPE
from studio.events.wire import TOPIC as TOPIC
from studio.events.wire import rfc3339 as rfc3339
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, StrictInt, UtcDatetime

ENV = Literal["dev", "staging", "prod"]
# One Firestore document holds 1 MiB; the scrubbed payload must fit with room for the rest.
MAX_PAYLOAD_BYTES = 256 * 1024
SURFACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"
AGENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
PII_TYPE_PATTERN = r"^[A-Z][A-Z0-9_]{1,31}$"  # a studio.privacy.pii.PiiType value; open to new types


class _Camel(ApiModel):
    # No whitespace stripping: input and output are recorded exactly as given.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def _payload_size(*values: Any) -> int:
    return len(json.dumps(values, separators=(",", ":"), default=str).encode())


class _EventFields(_Camel):
    """What producers say about an event; shared by the API input and the stored record."""

    surface: str = Field(pattern=SURFACE_PATTERN, description="Where it happened, e.g. chat, analytics.pageview")
    agent_id: str = Field(pattern=AGENT_PATTERN)
    input: JsonValue
    output: JsonValue
    session_id: str | None = Field(default=None, pattern=ID_PATTERN)
    thread_id: str | None = Field(default=None, pattern=ID_PATTERN)
    model: str | None = Field(default=None, max_length=128)
    provider: str | None = Field(default=None, max_length=64)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list, max_length=32)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    latency_ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000)

    @model_validator(mode="after")
    def _bounded(self) -> _EventFields:
        if _payload_size(self.input, self.output, self.metadata) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"input, output and metadata together exceed {MAX_PAYLOAD_BYTES} bytes")
        return self


class DatasetEventIn(_EventFields):
    """What a client posts. Tenant and env come from the headers; if repeated here they must match
    (the kernel refuses a mismatch). ``userId`` is for service identities logging on a user's behalf:
    a user can only log as themselves."""

    tenant_id: str | None = None
    env: Literal["dev", "staging", "stage", "prod"] | None = None
    user_id: str | None = Field(default=None, pattern=ID_PATTERN)


class DatasetEvent(_EventFields):
    """One logged interaction, after the PII filter and the training preference were applied."""

    event_id: str = Field(pattern=r"^dse_[0-9a-f]{32}$")
    tenant_id: str = Field(pattern=r"^t_[a-z0-9]{3,}$")
    env: ENV
    user_id: str | None = Field(default=None, pattern=ID_PATTERN)
    created_at: AwareDatetime
    train_ok: bool = Field(description="May this event train models? The user's durable preference at log time")
    pii_redacted: list[Annotated[str, Field(pattern=PII_TYPE_PATTERN)]] = Field(
        default_factory=list, description="PII types found and redacted in input, output, metadata and tags")

    @field_serializer("created_at")
    def _created_at(self, value: datetime) -> str:
        return rfc3339(value)


class DatasetEventAccepted(ApiModel):
    event_id: str


class DatasetEventQuery(ApiModel):
    """Filters of GET /events/datasets. Times are RFC 3339 with an offset; ``until`` is exclusive."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    surface: str | None = Field(default=None, pattern=SURFACE_PATTERN)
    agent: str | None = Field(default=None, pattern=AGENT_PATTERN, validation_alias=AliasChoices("agent", "agentId"))
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None
    limit: StrictInt = Field(default=50, ge=1, le=500)
    page_token: PageToken | None = None

    @model_validator(mode="after")
    def _range(self) -> DatasetEventQuery:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class DatasetEventPage(ApiModel):
    events: list[DatasetEvent]
    next_page_token: str | None = None
    unreadable: int = Field(default=0, description=(
        "Stored records on this page left out because they no longer validate (logged server-side)"))


class TrainingPrefs(ApiModel):
    """A user's durable choice, per tenant and env. ``rev`` 0 means never set (the default applies)."""

    user_id: str
    train_ok: bool
    rev: int = Field(ge=0)
    updated_at: str | None = None
    source: Literal["default", "user"]


class TrainingPrefsIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    train_ok: bool
    base_rev: Revision | None = None


class DatasetEventCounters(ApiModel):
    written: int = 0
    duplicates: int = 0


class DeliveryStats(ApiModel):
    """The writer's subscription as the bus reports it (all tenants: a subscription is shared)."""

    subscription: str
    pending: int = 0
    in_flight: int = 0
    acked: int = 0
    dead_lettered: int = 0
    redelivered: int = 0


class DatasetEventStats(ApiModel):
    tenant_id: str
    env: ENV
    counters: DatasetEventCounters
    rejected: int | None = Field(default=None, description=(
        "Deliveries refused as malformed, all tenants (each retry counts); service identities only"))
    delivery: DeliveryStats | None = Field(default=None, description=(
        "The writer subscription's counts; service identities only, absent when the bus keeps none"))

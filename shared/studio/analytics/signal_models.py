"""Signals registry and personalisation API shapes (D12)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from studio.analytics.models import Id
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision, strict_int

# Bounds before the validator: that order puts them in the JSON Schema, also inside an optional's anyOf.
Priority = Annotated[int, Field(ge=0, le=10_000), BeforeValidator(strict_int)]
SignalType = Literal["number", "bool", "string", "timestamp"]
Aggregation = Literal["count", "sum", "avg", "first", "last", "distinct_count", "exists"]
SignalName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
# A column of the events table, or props.<key>
FieldRef = Annotated[str, Field(max_length=80, pattern=r"^(value|url|canonical_url|page_type|surface|referrer|"
                                                       r"utm_source|utm_medium|utm_campaign|utm_term|utm_content|name|ts|"
                                                       r"site_id|session_id|props\.[A-Za-z0-9_.-]{1,64})$")]
FilterValue = Annotated[str, Field(max_length=500)] | float | bool
Window = Annotated[str, Field(pattern=r"^(session|all|[1-9][0-9]{0,2}[dh])$",
                              description="7d, 30d, 24h ..., session (the subject's current session) or all")]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class SignalSource(_In):
    event_type: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")]
    name: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="The event's name (CTA id, metric ...)")
    where: dict[FieldRef, FilterValue] = Field(default_factory=dict, max_length=10,
                                               description="Equality conditions on the event's fields")


class SignalIn(_In):
    name: SignalName
    type: SignalType
    source: SignalSource
    window: Window = "all"
    aggregation: Aggregation
    field: FieldRef | None = Field(default=None, description="What sum/avg/first/last/distinct_count read")
    description: Annotated[str, Field(max_length=500)] = ""


class SignalPatch(_In):
    type: SignalType | None = None
    source: SignalSource | None = None
    window: Window | None = None
    aggregation: Aggregation | None = None
    field: FieldRef | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    base_rev: Revision | None = None


class SignalOut(ApiModel):
    id: str
    name: str
    type: SignalType
    source: dict[str, Any]
    window: str
    aggregation: Aggregation
    field: str | None
    description: str
    rev: int
    created_at: str
    updated_at: str


class SignalList(ApiModel):
    signals: list[SignalOut]


class SubjectSignals(ApiModel):
    subject_id: str
    values: dict[str, Any] = Field(description="Signal name -> value (null when the subject has none yet)")
    updated_at: str | None


# -- personalisation --------------------------------------------------------------------------
class RuleIn(_In):
    slot: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
    segment: dict[str, Any] = Field(description="A condition over signals.<name> and attributes.<key> "
                                                "(MongoDB-style operators: $eq $ne $gt $gte $lt $lte $in $nin "
                                                "$exists $and $or $not)")
    variant: Annotated[str, Field(min_length=1, max_length=200)]
    priority: Priority = Field(default=100, description="Lower wins when several match")
    description: Annotated[str, Field(max_length=500)] = ""


class RulePatch(_In):
    segment: dict[str, Any] | None = None
    variant: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    priority: Priority | None = None
    description: Annotated[str, Field(max_length=500)] | None = None
    base_rev: Revision | None = None


class RuleOut(ApiModel):
    id: str
    slot: str
    segment: dict[str, Any]
    variant: str
    priority: int
    description: str
    rev: int
    created_at: str
    updated_at: str


class RuleList(ApiModel):
    rules: list[RuleOut]


class ResolveIn(_In):
    subject: Id
    attributes: dict[Annotated[str, Field(max_length=64)], FilterValue | None] = Field(default_factory=dict, max_length=50)
    slots: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(min_length=1, max_length=50)


class SlotAnswer(ApiModel):
    variant: str | None
    rule_id: str | None


class ResolveOut(ApiModel):
    subject: str
    slots: dict[str, SlotAnswer]

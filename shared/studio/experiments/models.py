"""API shapes of experiments, flags, SDK keys, OFREP evaluation and results (CAPABILITIES D13)."""
from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from studio.experiments.keys import KEY_PATTERN
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision, StrictInt

ATTRIBUTE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.]{0,63}$"
MAX_VALUE_BYTES = 8 * 1024
Status = Literal["draft", "running", "stopped"]
Key = Annotated[str, Field(pattern=KEY_PATTERN, description="Lower-case slug: a-z 0-9 _ . -, at most 64")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Condition = dict[str, JsonValue]


def _small(value: Any, what: str) -> None:
    if len(json.dumps(value, separators=(",", ":"))) > MAX_VALUE_BYTES:
        raise ValueError(f"{what} holds at most {MAX_VALUE_BYTES} bytes of JSON")


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class VariationIn(_In):
    key: Key
    name: str = Field(default="", max_length=200)
    value: JsonValue = Field(default=None, description="What a flag bound to the experiment serves for it")
    weight: Fraction | None = Field(default=None, description="Share of covered traffic; all or none set")

    @model_validator(mode="after")
    def _bounded(self) -> VariationIn:
        _small(self.value, "a variation's value")
        return self


class NamespaceIn(_In):
    id: Key
    start: Fraction
    end: Fraction

    @model_validator(mode="after")
    def _ordered(self) -> NamespaceIn:
        if self.start >= self.end:
            raise ValueError("a namespace range needs start < end")
        return self


class MetricIn(_In):
    event: str | None = Field(default=None, min_length=1, max_length=128,
                              description="Analytics event name (the events' `name`); or name a signal")
    signal: str | None = Field(default=None, min_length=1, max_length=128,
                               description="An analytics signal's name: its value per exposed subject")
    kind: Literal["rate", "mean"] = Field(default="rate",
                                          description="rate: share who did it (signal: truthy); mean: per subject")

    @model_validator(mode="after")
    def _one_source(self) -> MetricIn:
        if (self.event is None) == (self.signal is None):
            raise ValueError("a metric names an event or a signal (one of them)")
        return self


class ExperimentIn(_In):
    key: Key
    name: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2_000)
    variations: list[VariationIn] = Field(min_length=2, max_length=20)
    coverage: Fraction = 1.0
    hash_attribute: str = Field(default="id", pattern=ATTRIBUTE_PATTERN)
    hash_version: StrictInt = Field(default=2, ge=1, le=2, description="2 (default) or the legacy 1")
    seed: str = Field(default="", max_length=200, description="Hash seed; the key when empty")
    namespace: NamespaceIn | None = None
    condition: Condition | None = Field(default=None, description="GrowthBook condition syntax (MongoDB-style)")
    metric: MetricIn | None = None


class ExperimentPatch(_In):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2_000)
    status: Status | None = Field(default=None, description="draft -> running -> stopped")
    weights: list[Fraction] | None = Field(default=None, min_length=2, max_length=20,
                                           description="One per variation; sticky assignments keep their variation")
    coverage: Fraction | None = None
    condition: Condition | None = None
    namespace: NamespaceIn | None = None
    metric: MetricIn | None = None
    variations: list[VariationIn] | None = Field(default=None, min_length=2, max_length=20,
                                                 description="Only while draft")
    base_rev: Revision | None = None


class VariationOut(ApiModel):
    key: str
    name: str
    value: JsonValue
    weight: float


class NamespaceOut(ApiModel):
    id: str
    start: float
    end: float


class MetricOut(ApiModel):
    event: str | None = None
    signal: str | None = None
    kind: str


class ExperimentOut(ApiModel):
    id: str
    key: str
    name: str
    description: str
    status: Status
    variations: list[VariationOut]
    coverage: float
    hash_attribute: str
    hash_version: int
    seed: str
    namespace: NamespaceOut | None
    condition: Condition | None
    metric: MetricOut | None
    rev: int
    created_at: str
    updated_at: str
    started_at: str | None
    stopped_at: str | None


class ExperimentList(ApiModel):
    experiments: list[ExperimentOut]
    next_page_token: str | None = None


class ListQuery(_In):
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: Annotated[str, Field(max_length=2048, pattern=r"^[A-Za-z0-9_-]*$")] | None = None


# -- flags -----------------------------------------------------------------------------------------

class RuleIn(_In):
    """A rule, tried in order: ``force`` serves ``value`` to who matches ``condition`` (and falls in
    ``coverage``); ``experiment`` serves the value of the subject's variation in a running experiment."""

    kind: Literal["force", "experiment"] = "force"
    condition: Condition | None = None
    coverage: Fraction = 1.0
    hash_attribute: str = Field(default="id", pattern=ATTRIBUTE_PATTERN)
    value: JsonValue = None
    experiment_id: str | None = Field(default=None, pattern=r"^exp_[a-f0-9]{16}$")

    @model_validator(mode="after")
    def _complete(self) -> RuleIn:
        _small(self.value, "a rule's value")
        if (self.kind == "experiment") != (self.experiment_id is not None):
            raise ValueError("an experiment rule names experiment_id, and only an experiment rule does")
        return self


class FlagIn(_In):
    key: Key
    description: str = Field(default="", max_length=2_000)
    default_value: JsonValue = False
    rules: list[RuleIn] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _bounded(self) -> FlagIn:
        _small(self.default_value, "default_value")
        return self


class FlagPatch(_In):
    description: str | None = Field(default=None, max_length=2_000)
    status: Status | None = None
    default_value: JsonValue = None
    rules: list[RuleIn] | None = Field(default=None, max_length=50)
    base_rev: Revision | None = None

    @model_validator(mode="after")
    def _bounded(self) -> FlagPatch:
        _small(self.default_value, "default_value")
        return self


class RuleOut(ApiModel):
    kind: str
    condition: Condition | None
    coverage: float
    hash_attribute: str
    value: JsonValue
    experiment_id: str | None


class FlagOut(ApiModel):
    key: str
    description: str
    status: Status
    default_value: JsonValue
    rules: list[RuleOut]
    rev: int
    created_at: str
    updated_at: str


class FlagList(ApiModel):
    flags: list[FlagOut]
    next_page_token: str | None = None


class SdkKeyIn(_In):
    name: str = Field(default="", max_length=200)


class SdkKeyOut(ApiModel):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it")
    revoked: bool
    created_at: str
    key: str | None = Field(default=None, description="The secret itself: returned once, at creation")


class SdkKeyList(ApiModel):
    keys: list[SdkKeyOut]


# -- OFREP ------------------------------------------------------------------------------------------

class OfrepRequest(ApiModel):
    """OFREP's evaluation request: ``context`` holds ``targetingKey`` and the subject's attributes."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    context: JsonValue = Field(default=None, description="An object: targetingKey and the subject's attributes")


class OfrepEvaluation(ApiModel):
    key: str
    value: JsonValue = None
    reason: str | None = None
    variant: str | None = None
    metadata: dict[str, JsonValue] | None = None
    errorCode: str | None = None  # noqa: N815 - OFREP's field names
    errorDetails: str | None = None  # noqa: N815


class OfrepBulk(ApiModel):
    flags: list[OfrepEvaluation]


class OfrepConfiguration(ApiModel):
    name: str
    capabilities: dict[str, JsonValue]


# -- results ----------------------------------------------------------------------------------------

class VitalsOut(ApiModel):
    lcp_p75: float | None
    inp_p75: float | None
    cls_p75: float | None
    samples: int


class VariationResult(ApiModel):
    key: str
    users: int
    expected_share: float
    metric_value: float | None = Field(description="Rate (share of users who converted) or mean per user")
    converted: int
    uplift: float | None = Field(description="Relative to the control (the first variation)")
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    vitals: VitalsOut


class ResultsOut(ApiModel):
    experiment_id: str
    key: str
    status: Status
    metric: MetricOut | None
    test: str | None
    users: int
    srm_p_value: float | None
    srm: bool = Field(description="Sample-ratio mismatch: the split differs from the weights (p < 0.001)")
    variations: list[VariationResult]


class SimulationIn(_In):
    subjects: StrictInt = Field(default=500, ge=1, le=5_000)
    rates: list[Fraction] | None = Field(default=None, min_length=2, max_length=20,
                                         description="Conversion rate per variation (default 10% and +20% uplift)")
    seed: StrictInt = Field(default=0, ge=0, le=2**31)


class SimulationOut(ApiModel):
    subjects: int
    assigned: int
    exposures: int
    events: int

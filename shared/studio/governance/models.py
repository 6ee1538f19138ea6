"""Governance API shapes: inputs forbid unknown fields; outputs carry ``rev`` (the ETag)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, StrictInt, UtcDatetime
from studio.kernel.commands import CommandEnvelope

SubjectType = Literal["user", "agent", "api_client"]
Danger = Literal["none", "low", "high", "critical"]
TargetKind = Literal["provider", "model", "tool", "agent", "action"]
Period = Literal["day", "month", "total"]
NAME = r"^[A-Za-z0-9_.@:*/-]+$"
ID = r"^[A-Za-z0-9_.@:-]+$"
ToolName = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+(@[A-Za-z0-9_.+-]+)?$")]
Usd = Field(ge=0, le=1_000_000_000)
Temperature = Field(ge=0, le=2)


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class _Out(ApiModel):
    model_config = ConfigDict(extra="allow", defer_build=True)


# -- licences ---------------------------------------------------------------------------------
class LicenceIn(_In):
    subject_type: SubjectType
    subject_id: str = Field(min_length=1, max_length=128, pattern=ID)
    tools: list[ToolName] = Field(default_factory=list, max_length=50,
                                  description="Tool names (name or name@version) the licence covers")
    danger: Danger | None = Field(default=None, description="Covers every tool up to this danger level")
    expires_at: UtcDatetime
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _names_something(self) -> LicenceIn:
        if not self.tools and self.danger is None:
            raise ValueError("a licence names tools or a danger level")
        return self


class LicenceOut(_Out):
    id: str
    subject_type: str
    subject_id: str
    tools: list[str]
    danger: str | None
    expires_at: str
    status: Literal["active", "revoked", "expired"]
    rev: int


class LicenceList(ApiModel):
    licences: list[LicenceOut]


class LicenceQuery(_In):
    subject_type: SubjectType | None = None
    subject_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=ID)


class RevokeIn(_In):
    base_rev: Revision | None = None


class LicenceCheckQuery(_In):
    tool: str | None = Field(default=None, min_length=1, max_length=128, pattern=ID)
    danger: Danger = "none"


class LicenceCheck(ApiModel):
    subject_type: str
    subject_id: str
    tool: str | None
    danger: str
    licensed: bool
    licence: LicenceOut | None


# -- kill switches ----------------------------------------------------------------------------
class KillSwitchIn(_In):
    target_kind: TargetKind
    target: str = Field(min_length=1, max_length=128, pattern=NAME, description="A name, or * for all")
    reason: str = Field(min_length=1, max_length=500)
    active: bool = True
    platform: bool = Field(default=False, description="Platform-wide (system identities only)")


class KillSwitchPatch(_In):
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    active: bool | None = None
    base_rev: Revision | None = None


class KillSwitchOut(_Out):
    id: str
    scope: str
    target_kind: str
    target: str
    reason: str
    active: bool
    rev: int


class KillSwitchList(ApiModel):
    switches: list[KillSwitchOut]
    platform: list[KillSwitchOut]


# -- strategy locks ---------------------------------------------------------------------------
class LockIn(_In):
    locked: bool
    reason: str = Field(default="", max_length=500)
    base_rev: Revision | None = None


class LockOut(_Out):
    scope: str
    locked: bool
    reason: str
    rev: int


class LockList(ApiModel):
    locks: list[LockOut]
    known_scopes: list[str]


# -- three-wise -------------------------------------------------------------------------------
class QuestionIn(_In):
    command: CommandEnvelope
    required: StrictInt = Field(default=3, ge=1, le=10, description="Distinct approving admins or owners")
    rationale: str = Field(default="", max_length=2_000)


class VoteIn(_In):
    verdict: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=1_000)


class QuestionOut(_Out):
    id: str
    status: Literal["open", "applied", "failed", "rejected", "approved"]
    command: dict[str, Any]
    required: int
    proposer: str
    votes: list[dict[str, Any]]
    history: list[dict[str, Any]]
    reason: str | None
    rev: int


class QuestionList(ApiModel):
    questions: list[QuestionOut]
    next_page_token: str | None = None


class QuestionQuery(_In):
    status: Literal["open", "applied", "failed", "rejected", "approved"] | None = None
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: PageToken | None = None


# -- temperature corridors --------------------------------------------------------------------
class CorridorIn(_In):
    floor: float = Temperature
    ceiling: float = Temperature
    default: float = Temperature
    base_rev: Revision | None = None


class CorridorOut(_Out):
    id: str
    agent_id: str | None
    floor: float
    ceiling: float
    default: float
    rev: int


class CorridorList(ApiModel):
    corridors: list[CorridorOut]
    platform: dict[str, float]


class EffectiveQuery(_In):
    agent_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    requested: float | None = Field(default=None, ge=-1_000, le=1_000)


class Effective(ApiModel):
    agent_id: str | None
    requested: float | None
    temperature: float


# -- budgets ----------------------------------------------------------------------------------
class BudgetIn(_In):
    provider: str = Field(min_length=1, max_length=64, pattern=r"^(\*|[a-z0-9_.-]+)$",
                          description="A provider name (echo, local, openai-compatible, gemini, tools) or *")
    period: Period
    soft_usd: float = Usd
    hard_usd: float = Usd
    base_rev: Revision | None = None

    @model_validator(mode="after")
    def _soft_under_hard(self) -> BudgetIn:
        if self.soft_usd > self.hard_usd:
            raise ValueError("soft_usd must not exceed hard_usd")
        return self


class BudgetOut(_Out):
    id: str
    provider: str
    period: str
    soft_usd: float
    hard_usd: float
    spent_usd: float
    reserved_usd: float
    rev: int


class BudgetList(ApiModel):
    budgets: list[BudgetOut]


class UsageQuery(_In):
    limit: StrictInt = Field(default=50, ge=1, le=500)
    page_token: PageToken | None = None


class UsageList(ApiModel):
    records: list[dict[str, Any]]
    next_page_token: str | None = None


class UsageIn(_In):
    provider: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    model: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:/@-]+$")
    input_tokens: StrictInt = Field(ge=0, le=100_000_000)
    output_tokens: StrictInt = Field(ge=0, le=100_000_000)
    agent_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")


class UsageOut(ApiModel):
    provider: str
    model: str
    tokens: int
    cost_usd: float


class SummaryQuery(_In):
    since: UtcDatetime | None = None


class UsageSummary(ApiModel):
    since: str
    truncated: bool
    by_provider_model: list[dict[str, Any]]
    total_usd: float
    total_tokens: int
    budgets: list[BudgetOut]


class PriceTable(ApiModel):
    prices: list[dict[str, Any]]


# The three-wise question's command payloads (commands.py) reuse the inputs above without base_rev.
class KillSwitchSet(_In):
    target_kind: TargetKind
    target: str = Field(min_length=1, max_length=128, pattern=NAME)
    reason: str = Field(min_length=1, max_length=500)
    active: bool = True


class CorridorSet(_In):
    floor: float = Temperature
    ceiling: float = Temperature
    default: float = Temperature


class BudgetSet(_In):
    provider: str = Field(min_length=1, max_length=64, pattern=r"^(\*|[a-z0-9_.-]+)$")
    period: Period
    soft_usd: float = Usd
    hard_usd: float = Usd


class LicenceIssue(_In):
    subject_type: SubjectType
    subject_id: str = Field(min_length=1, max_length=128, pattern=ID)
    tools: list[ToolName] = Field(default_factory=list, max_length=50)
    danger: Danger | None = None
    expires_at: UtcDatetime
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _names_something(self) -> LicenceIssue:
        if not self.tools and self.danger is None:
            raise ValueError("a licence names tools or a danger level")
        return self


class LicenceRevoke(_In):
    pass


class LockSet(_In):
    locked: bool
    reason: str = Field(default="", max_length=500)

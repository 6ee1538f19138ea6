"""API shapes of the audits domain (CAPABILITIES E15, E16, E17, E19)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, StrictInt, strict_int

# A viewport width in CSS px: the bounds live in the schema, so a client sees them (and NaN or 2**64 never parse).
Breakpoint = Annotated[int, Field(ge=200, le=4000), BeforeValidator(strict_int)]

Kind = Literal["accessibility", "performance", "layout"]
ALL_KINDS: tuple[Kind, ...] = ("accessibility", "performance", "layout")
SiteId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Coordinate = Annotated[float, Field(ge=-1e6, le=1e7, allow_inf_nan=False)]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class _Lax(ApiModel):  # budget.json objects: Lighthouse ignores what it does not know, so do we
    model_config = ConfigDict(extra="ignore", defer_build=True)


class SizeBudget(_Lax):
    resourceType: Literal["document", "script", "stylesheet", "image", "media", "font", "other",  # noqa: N815
                          "third-party", "total"]
    budget: float = Field(ge=0, le=1e7, allow_inf_nan=False)


class TimingBudget(_Lax):
    metric: Literal["first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                    "cumulative-layout-shift", "time-to-first-byte", "interactive", "first-meaningful-paint",
                    "max-potential-fid", "speed-index"]
    budget: float = Field(ge=0, le=1e7, allow_inf_nan=False)
    tolerance: float = Field(default=0, ge=0, le=1e7, allow_inf_nan=False)


class Budget(_Lax):
    path: str | None = Field(default=None, max_length=500)
    resourceSizes: list[SizeBudget] = Field(default_factory=list, max_length=20)  # noqa: N815
    resourceCounts: list[SizeBudget] = Field(default_factory=list, max_length=20)  # noqa: N815
    timings: list[TimingBudget] = Field(default_factory=list, max_length=20)


class AuditIn(_In):
    url: str | None = Field(default=None, min_length=8, max_length=2048, pattern=r"^https?://")
    html: str | None = Field(default=None, min_length=1, max_length=500_000)
    kinds: list[Kind] = Field(default_factory=lambda: list(ALL_KINDS), min_length=1, max_length=3)
    breakpoints: list[Breakpoint] = Field(default_factory=lambda: [320, 375, 414, 768, 1024, 1280, 1440, 1920],
                                         min_length=1, max_length=12)
    budget: list[Budget] = Field(default_factory=list, max_length=50)
    site_id: SiteId | None = None
    device: Literal["mobile", "desktop"] = "mobile"

    @model_validator(mode="after")
    def _one_target(self) -> AuditIn:
        if (self.url is None) == (self.html is None):
            raise ValueError("give exactly one of url or html")
        if any(not 200 <= bp <= 4000 for bp in self.breakpoints):
            raise ValueError("breakpoints are CSS px widths from 200 to 4000")
        return self


class AuditOut(ApiModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    site_id: str | None = None
    target: str
    kinds: list[str]
    breakpoints: list[int]
    device: str
    progress: float
    stage: str
    created_at: str
    finished_at: str | None = None
    error: str | None = None
    refused_urls: list[str] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)
    accessibility: dict[str, Any] | None = None
    performance: dict[str, Any] | None = None
    layout: dict[str, Any] | None = None
    rev: int


class AuditList(ApiModel):
    audits: list[AuditOut]
    next_page_token: str | None = None


class AuditListQuery(_In):
    site_id: SiteId | None = None
    limit: StrictInt = Field(default=20, ge=1, le=100)
    page_token: PageToken | None = None


class FieldQuery(_In):
    site_id: SiteId
    days: StrictInt = Field(default=28, ge=1, le=365)


class FieldVitals(ApiModel):
    site_id: str
    days: int
    samples: int
    routes: list[dict[str, Any]]
    variations: list[dict[str, Any]]


class ScreenshotOut(ApiModel):
    audit_id: str
    breakpoint: int
    data_url: str


class Box(_In):
    x: Coordinate
    y: Coordinate
    w: float = Field(ge=0, le=1e6, allow_inf_nan=False)
    h: float = Field(ge=0, le=1e7, allow_inf_nan=False)


class ContentSize(_In):
    w: float = Field(ge=0, le=1e7, allow_inf_nan=False)
    h: float = Field(ge=0, le=1e7, allow_inf_nan=False)


class LayoutNode(_In):
    id: str = Field(min_length=1, max_length=500)
    kind: Literal["interactive", "text", "box"] = "box"
    parent: str | None = Field(default=None, max_length=500)
    boxes: dict[str, Box | None] = Field(max_length=16)
    content: dict[str, ContentSize | None] = Field(default_factory=dict, max_length=16)
    inline: bool = False
    scroller: bool = False


    @field_validator("boxes", "content")
    @classmethod
    def _widths(cls, value: dict[str, Any]) -> dict[str, Any]:
        if any(not (k.isdigit() and k.isascii() and 0 < len(k) <= 4) for k in value):
            raise ValueError("keys are breakpoints: CSS px widths as digits, e.g. \"320\"")
        return value


class LayoutGraph(_In):
    breakpoints: list[Breakpoint] = Field(default_factory=list, max_length=16)
    nodes: list[LayoutNode] = Field(max_length=20_000)


class LayoutReport(ApiModel):
    breakpoints: list[int]
    nodes: int
    findings: list[dict[str, Any]]
    counts: dict[str, int]


ChecklistStatus = Literal["pass", "fail", "not_applicable", "pending"]


class ChecklistEntry(_In):
    key: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    status: ChecklistStatus
    note: str = Field(default="", max_length=2000)


class ServiceInfo(_In):
    """What EAA Annex V asks a service provider to publish (filled into the pack and statement)."""
    service_name: str = Field(default="", max_length=200)
    provider: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=4000)
    how_it_meets_requirements: str = Field(default="", max_length=4000)
    url: str = Field(default="", max_length=2048)
    contact_email: str = Field(default="", max_length=320)
    enforcement_body: str = Field(default="", max_length=300)
    enforcement_url: str = Field(default="", max_length=2048)


class EaaSitePatch(_In):
    service: ServiceInfo | None = None
    checklist: list[ChecklistEntry] = Field(default_factory=list, max_length=200)
    base_rev: Revision | None = None


class EaaSiteOut(ApiModel):
    site_id: str
    service: dict[str, Any]
    checklist: dict[str, Any]
    rev: int


class EaaPack(ApiModel):
    site_id: str
    generated_at: str
    standard: str
    audit_id: str | None
    clauses: list[dict[str, Any]]
    manual_checklist: list[dict[str, Any]]
    service_information: dict[str, Any]
    statement: dict[str, Any]
    statement_html: str
    history: list[dict[str, Any]]
    rev: int

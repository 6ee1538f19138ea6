"""Analytics API shapes: sites and their write keys, and the browser events of the ingest routes.

Browser events are bounded everywhere (strings, props, batch size): the ingest routes are public.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision, UtcDatetime, strict_int

# Ids are opaque tokens (no "@": an email is not an id, and ids are stored unscrubbed).
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:+=-]+$")]
Text = Annotated[str, Field(max_length=200)]
Url = Annotated[str, Field(max_length=2048)]
Scalar = Annotated[str, Field(max_length=500)] | float | bool | None
Props = Annotated[dict[Annotated[str, Field(max_length=64)], Scalar], Field(max_length=32)]
Origin = Annotated[str, Field(min_length=1, max_length=300)]
# Bounds before the validator: that order puts them in the JSON Schema, also inside an optional's anyOf.
PerMinute = Annotated[int, Field(ge=1, le=1_000_000), BeforeValidator(strict_int)]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


# -- sites and keys -------------------------------------------------------------------------
class SiteIn(_In):
    name: str = Field(min_length=1, max_length=200)
    origins: list[Origin] = Field(default_factory=list, max_length=50,
                                  description="Browser origins allowed to send events (kernel/cors.py grammar)")
    allow_no_origin: bool = Field(default=False, description="Accept events without an Origin header (servers)")
    rate_limit_per_minute: PerMinute = Field(default=6000, description="Per write key")


class SitePatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    origins: list[Origin] | None = Field(default=None, max_length=50)
    allow_no_origin: bool | None = None
    rate_limit_per_minute: PerMinute | None = None
    base_rev: Revision | None = None


class SiteOut(ApiModel):
    id: str
    name: str
    origins: list[str]
    allow_no_origin: bool
    rate_limit_per_minute: int
    rev: int
    created_at: str
    updated_at: str


class SiteList(ApiModel):
    sites: list[SiteOut]


class KeyOut(ApiModel):
    id: str
    site_id: str
    prefix: str = Field(description="The key's first characters, to tell keys apart")
    revoked: bool
    created_at: str
    key: str | None = Field(default=None, description="The whole key: only in the answer that created it")


class KeyList(ApiModel):
    keys: list[KeyOut]


# -- browser events -------------------------------------------------------------------------
class IngestQuery(_In):
    key: str | None = Field(default=None, max_length=200, description="The site's write key")


class _Event(_In):
    event_id: Id | None = Field(default=None, description="The client's id: a resend with the same id counts once")
    ts: UtcDatetime | None = Field(default=None, description="When it happened (default: when it arrived)")
    anonymous_id: Id
    user_id: Id | None = None
    session_id: Id | None = None
    url: Url
    canonical_url: Url | None = None
    page_type: Text | None = None
    surface: Text | None = None
    referrer: Url | None = None
    utm_source: Text | None = None
    utm_medium: Text | None = None
    utm_campaign: Text | None = None
    utm_term: Text | None = None
    utm_content: Text | None = None
    props: Props = Field(default_factory=dict)


class PageviewIn(_Event):
    type: Literal["pageview"] = "pageview"
    title: Text | None = None


class CtaClickIn(_Event):
    type: Literal["cta_click"] = "cta_click"
    cta_id: Text = Field(min_length=1)
    target_url: Url | None = None


VitalName = Literal["LCP", "INP", "CLS", "TTFB", "FCP"]


class WebVitalsIn(_Event):
    """One metric as the web-vitals library reports it (``onLCP(metric => ...)``), with its attribution."""

    type: Literal["web_vitals"] = "web_vitals"
    metric: VitalName
    value: float = Field(ge=0, le=10_000_000, description="ms for timings, unitless for CLS")
    rating: Literal["good", "needs-improvement", "poor"] | None = None
    metric_id: Text | None = None
    navigation_type: Text | None = None
    attribution: Props = Field(default_factory=dict)


class CustomIn(_Event):
    type: Literal["custom"] = "custom"
    name: Text = Field(min_length=1)
    value: float | None = Field(default=None, ge=-1e15, le=1e15)


AnyEvent = Annotated[PageviewIn | CtaClickIn | WebVitalsIn | CustomIn, Field(discriminator="type")]


class BatchIn(_In):
    """Several events at once; also what ``navigator.sendBeacon`` posts (text/plain JSON, key in the body)."""

    write_key: str | None = Field(default=None, max_length=200)
    events: list[AnyEvent] = Field(min_length=1, max_length=100)


class IngestOut(ApiModel):
    accepted: int
    event_ids: list[str]
    dropped_bots: int = Field(default=0, description="Events from known bots or crawlers, not stored")


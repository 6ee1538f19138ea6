"""Journey analyzer API shapes (E18): funnels, paths and the static site graph."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from studio.analytics.models import Url
from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import StrictInt, UtcDatetime

GroupBy = Literal["utm_source", "utm_medium", "utm_campaign", "surface", "page_type", "referrer", "site_id"]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class FunnelStep(_In):
    type: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")] = "pageview"
    url: Url | None = Field(default=None, description="The page (canonical URL when the event has one, else URL)")
    page_type: Annotated[str, Field(max_length=200)] | None = None
    name: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="CTA id, event name ...")
    label: Annotated[str, Field(max_length=200)] | None = None


class FunnelIn(_In):
    steps: list[FunnelStep] = Field(min_length=2, max_length=10)
    window: Annotated[str, Field(pattern=r"^[1-9][0-9]{0,3}[mhd]$")] = Field(
        default="7d", description="Time allowed from the first step to the last (30m, 24h, 7d ...)")
    group_by: GroupBy | None = Field(default=None, description="Split by this field of the user's first step")
    site_id: Annotated[str, Field(max_length=64)] | None = None
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None


class StepOut(ApiModel):
    step: int
    label: str
    users: int
    conversion: float = Field(description="users / users at step 1")
    step_conversion: float = Field(description="users / users at the step before")
    drop_off: int = Field(description="users of the step before who did not reach this one")


class FunnelGroup(ApiModel):
    group: str | None
    steps: list[StepOut]
    median_seconds_to_convert: float | None


class FunnelOut(ApiModel):
    steps: list[StepOut]
    median_seconds_to_convert: float | None = Field(description="From step 1 to the last step, converted users")
    groups: list[FunnelGroup]


class PathsQuery(_In):
    from_: Url = Field(alias="from", min_length=1, description="The page (canonical URL when known, else URL)")
    site_id: Annotated[str, Field(max_length=64)] | None = None
    limit: StrictInt = Field(default=10, ge=1, le=100)
    since: UtcDatetime | None = None
    until: UtcDatetime | None = None

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True, populate_by_name=True)


class PageCount(ApiModel):
    url: str
    count: int


class SankeyNode(ApiModel):
    id: str
    label: str
    column: int


class SankeyLink(ApiModel):
    source: str
    target: str
    value: int


class Sankey(ApiModel):
    nodes: list[SankeyNode]
    links: list[SankeyLink]


class PathsOut(ApiModel):
    page: str
    views: int
    next: list[PageCount]
    previous: list[PageCount]
    exits: int = Field(description="Views of the page that were the last of their session")
    entries: int = Field(description="Views of the page that were the first of their session")
    sankey: Sankey


class SiteGraphQuery(_In):
    max_clicks: StrictInt = Field(default=3, ge=1, le=20, description="Pages further than this from an entry are reported")
    surface: Annotated[str, Field(max_length=200)] | None = None


class GraphPage(ApiModel):
    surface: str
    page_type: str
    path: str
    depth: int | None = Field(description="Clicks from the nearest entry page (null: unreachable)")


class BrokenCta(ApiModel):
    page: str
    cta_id: str
    target: str


class SiteGraphOut(ApiModel):
    pages: list[GraphPage]
    entries: list[str]
    orphans: list[str] = Field(description="Pages no other page links to (entries excluded)")
    dead_ends: list[str] = Field(description="Pages linking nowhere")
    unreachable: list[str] = Field(description="Pages not reachable from an entry within max_clicks")
    broken_links: list[BrokenCta]
    broken_ctas: list[BrokenCta] = Field(description="CTAs pointing at a path no page config has")

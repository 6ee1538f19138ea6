"""SEO page configs (the audit's /seo/pages, kept; now revisioned) with the links the site graph reads."""
from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import Revision

Key = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
PagePath = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^/[^\s#?]*$")]
Target = Annotated[str, Field(min_length=1, max_length=2048)]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Cta(_In):
    id: Annotated[str, Field(min_length=1, max_length=100)]
    target: Target = Field(description="A page path of this site (/pricing) or an absolute URL (not checked)")


class SeoPageConfig(_In):
    path: PagePath = Field(description="The page's path on the site")
    title: Annotated[str, Field(max_length=300)] = ""
    description: Annotated[str, Field(max_length=1000)] = ""
    canonical_url: Annotated[str, Field(max_length=2048)] | None = None
    robots: Annotated[str, Field(max_length=100)] = "index,follow"
    og: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=dict, max_length=30)
    entry: bool = Field(default=False, description="An entry page (landing, home): the site graph starts here")
    links: list[PagePath] = Field(default_factory=list, max_length=200, description="Paths this page links to")
    ctas: list[Cta] = Field(default_factory=list, max_length=50)
    base_rev: Revision | None = None


class SeoPagePut(SeoPageConfig):
    surface: Key
    page_type: Key


class SeoPageOut(ApiModel):
    surface: str
    page_type: str
    path: str
    title: str
    description: str
    canonical_url: str | None
    robots: str
    og: dict[str, str]
    entry: bool
    links: list[str]
    ctas: list[dict[str, str]]
    rev: int
    updated_at: str


class SeoPageList(ApiModel):
    pages: list[SeoPageOut]


class SeoListQuery(_In):
    surface: Key | None = None

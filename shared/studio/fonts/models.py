"""Fonts API shapes."""
from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, StrictInt


class FontOut(ApiModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    id: str
    rev: int
    filename: str
    public: bool
    sha256: str
    size_bytes: int
    created_at: str
    format: str
    family: str
    style: str
    weight: int
    width: int
    italic: bool
    fs_type: int
    license: str | None = None
    license_url: str | None = None
    axes: list[dict[str, Any]]
    instances: list[dict[str, Any]]
    subsets: list[str]
    codepoints: int


class FontList(ApiModel):
    fonts: list[FontOut]
    next_page_token: str | None = None


class FontListQuery(ApiModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: PageToken | None = None


class SiteKeyOut(ApiModel):
    site_key: str
    css2: str

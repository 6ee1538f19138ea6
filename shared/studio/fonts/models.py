"""Fonts API shapes."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, StrictInt, strict_int

# A CSS font-weight; bounds before the validator so they reach the schema (and survive "| None").
FontWeight = Annotated[int, Field(ge=1, le=1000), BeforeValidator(strict_int)]


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


class SiteKeyRevokeIn(ApiModel):
    """Revoking takes no fields: an empty body or ``{}``. Declared so a body that says anything else (a
    key id, NaN, a deep array) is refused rather than ignored while the path's key is revoked."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class SiteKeyOut(ApiModel):
    id: str
    prefix: str
    revoked: bool
    created_at: str
    site_key: str | None = None  # the whole key: shown once, when created
    css2: str | None = None


_FEATURE = r"^[a-z0-9]{4}$"


class PresetIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 _-]+$")
    family: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ]+$")
    weight: StrictInt = Field(default=400, ge=1, le=1000)
    size_px: float = Field(default=16, ge=4, le=512)
    line_height: float = Field(default=1.4, ge=0.5, le=4)
    tracking_em: float = Field(default=0, ge=-1, le=1)
    features: list[Annotated[str, Field(pattern=_FEATURE)]] = Field(default_factory=list, max_length=20)


class PresetPatch(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 _-]+$")
    family: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ]+$")
    weight: FontWeight | None = None
    size_px: float | None = Field(default=None, ge=4, le=512)
    line_height: float | None = Field(default=None, ge=0.5, le=4)
    tracking_em: float | None = Field(default=None, ge=-1, le=1)
    features: list[Annotated[str, Field(pattern=_FEATURE)]] | None = Field(default=None, max_length=20)
    base_rev: Revision | None = None


class PresetOut(ApiModel):
    id: str
    rev: int
    created_at: str
    name: str
    family: str
    weight: int
    size_px: float
    line_height: float
    tracking_em: float
    features: list[str]


class PresetList(ApiModel):
    presets: list[PresetOut]

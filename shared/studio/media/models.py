"""Media API shapes (CAPABILITIES F20, F21; the audit's /media-v2 paths)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, StrictInt, UtcDatetime

MAX_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024  # 5 GiB: one GCS object in one resumable session
AssetKind = Literal["image", "video", "audio", "document"]
AssetStatus = Literal["uploading", "processing", "ready", "failed", "quarantined", "deleted"]
ArtifactKind = Literal["variant", "proxy", "poster", "placeholder", "normalized_audio", "mask", "voice_enhanced",
                       "thumbnail", "transcript", "render", "other"]
_MIME = r"^((image|video|audio)/[a-z0-9][a-z0-9.+-]{0,100}|text/(plain|markdown|x-markdown|html)|application/pdf)$"
_TEXT = r"^[^\x00-\x1f\x7f]*$"
Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f,]+$")]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class UploadIn(_In):
    filename: str = Field(min_length=1, max_length=255, pattern=_TEXT)
    content_type: str = Field(max_length=120, pattern=_MIME, description="The declared type (sniffed again later)")
    size_bytes: StrictInt = Field(ge=1, le=MAX_UPLOAD_BYTES, description="The upload is refused above this size "
                                  "(documents: text, Markdown, HTML, PDF, above 20 MiB)")
    title: str | None = Field(default=None, max_length=200, pattern=_TEXT)


class UploadOut(ApiModel):
    asset_id: str
    upload_url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: str
    resumable: bool = False


class RegisterIn(_In):
    """JSON form of POST /media-v2/assets: register an object already in the tenant's bucket."""
    object_name: str = Field(min_length=1, max_length=1024, pattern=_TEXT,
                             description="An object of the uploads bucket under '<tenant>/<env>/'")
    filename: str | None = Field(default=None, max_length=255, pattern=_TEXT)
    title: str | None = Field(default=None, max_length=200, pattern=_TEXT)


class AssetPatch(_In):
    title: str | None = Field(default=None, max_length=200, pattern=_TEXT)
    tags: list[Tag] | None = Field(default=None, max_length=50)
    alt_text: str | None = Field(default=None, max_length=1000, pattern=_TEXT)
    base_rev: Revision | None = None


class AssetListQuery(_In):
    kind: AssetKind | None = None
    status: AssetStatus | None = None
    created_after: UtcDatetime | None = None
    created_before: UtcDatetime | None = None
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: PageToken | None = None


class SrcsetOut(ApiModel):
    avif: str = ""
    webp: str = ""
    jpeg: str = ""


class AssetOut(ApiModel):
    id: str
    kind: AssetKind | None = None
    status: AssetStatus
    reason: str | None = None
    filename: str
    title: str | None = None
    tags: list[str] = []
    alt_text: str | None = None
    declared_type: str | None = None
    sniffed_type: str | None = None
    type_mismatch: bool = False
    size_bytes: int | None = None
    sha256: str | None = None
    deduplicated_from: str | None = None
    metadata: dict[str, Any] = {}
    placeholder: str | None = None
    srcset: SrcsetOut | None = None
    download_url: str | None = None
    created_by: str
    created_at: str
    updated_at: str
    purge_after: str | None = None
    rev: int


class AssetList(ApiModel):
    assets: list[AssetOut]
    next_page_token: str | None = None


class ArtifactIn(_In):
    """Register an artifact produced elsewhere (a mask, an enhanced voice track ...)."""
    kind: ArtifactKind
    object_name: str = Field(min_length=1, max_length=1024, pattern=_TEXT,
                             description="An object of the uploads bucket under '<tenant>/<env>/'")
    params: dict[str, Any] = Field(default_factory=dict, description="How it was made (at most 4 KiB of JSON)")
    tool: str = Field(default="external", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")


class ArtifactOut(ApiModel):
    id: str
    asset_id: str
    kind: ArtifactKind
    mime: str
    params: dict[str, Any]
    sha256: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    data: dict[str, Any] = {}
    download_url: str | None = None
    created_at: str
    rev: int


class ArtifactList(ApiModel):
    artifacts: list[ArtifactOut]

"""Video API shapes. A timeline travels as a JSON object and is checked against its published schema
(timeline.py) by the service, so a fault answers TIMELINE_INVALID with the pointer of the clip at fault."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, StrictInt, UtcDatetime

_NAME = r"^[^\x00-\x1f\x7f]*$"
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class ProjectIn(_In):
    name: str = Field(min_length=1, max_length=200, pattern=_NAME)
    timeline: dict[str, Any] | None = Field(default=None, description="A timeline (GET /video/timeline.schema.json)")


class ProjectPatch(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=_NAME)
    timeline: dict[str, Any] | None = None
    base_rev: Revision | None = None


class ProjectOut(ApiModel):
    id: str
    name: str
    timeline: dict[str, Any]
    duration_s: float
    rev: int
    created_at: str
    updated_at: str


class ProjectList(ApiModel):
    projects: list[ProjectOut]
    next_page_token: str | None = None


class PageQuery(_In):
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: PageToken | None = None


class RenderIn(_In):
    project_id: str = Field(min_length=1, max_length=40)
    rev: Revision


class ChunkState(ApiModel):
    index: int
    state: str
    attempts: int
    worker: str | None = Field(default=None, description="the instance/process/thread that rendered it")
    seconds: float | None = Field(default=None, description="its ffmpeg wall time on that worker")


class RenderJobOut(ApiModel):
    id: str
    rev: int
    status: JobStatus
    project_id: str
    project_rev: int
    progress: float
    chunks: list[ChunkState] = []
    eta_s: float | None = None
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    artifact_id: str | None = None
    estimate: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    executed: list[list[str]] | None = None
    elapsed_s: float | None = None


class RenderJobList(ApiModel):
    jobs: list[RenderJobOut]
    next_page_token: str | None = None


class JobListQuery(_In):
    status: JobStatus | None = None
    project_id: str | None = Field(default=None, max_length=40)
    created_after: UtcDatetime | None = None
    created_before: UtcDatetime | None = None
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: PageToken | None = None


class PlanOut(ApiModel):
    """The ffmpeg plan: per chunk inputs, filter graph and arguments; the audio mix, concat and mux; an estimate."""
    model_config = ConfigDict(extra="allow", defer_build=True)
    duration_s: float
    fps: int
    frames: int
    codec: str
    container: str
    chunks: list[dict[str, Any]]
    audio: dict[str, Any]
    concat: dict[str, Any]
    mux: dict[str, Any]
    estimate: dict[str, Any]



class AddClip(_In):
    track_id: str = Field(min_length=1, max_length=40)
    clip: dict[str, Any]


class MoveClip(_In):
    clip_id: str = Field(min_length=1, max_length=40)
    start: float = Field(ge=0, le=4 * 3600)
    track_id: str | None = Field(default=None, min_length=1, max_length=40)


class TrimClip(_In):
    clip_id: str = Field(min_length=1, max_length=40)
    in_: float | None = Field(default=None, alias="in", ge=0, le=4 * 3600)
    out: float | None = Field(default=None, ge=0, le=4 * 3600)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class RemoveClip(_In):
    clip_id: str = Field(min_length=1, max_length=40)


class OriginWindow(_In):
    audio_in: float = Field(ge=0, le=4 * 3600)
    audio_out: float = Field(gt=0, le=4 * 3600)
    video_source: str = Field(pattern=r"^(as|ar)_[0-9a-f]{20}$")
    video_in: float = Field(ge=0, le=4 * 3600)
    video_out: float = Field(gt=0, le=4 * 3600)


class OriginSnippetsIn(_In):
    audio_artifact_id: str = Field(pattern=r"^ar_[0-9a-f]{20}$")
    windows: list[OriginWindow] = Field(min_length=1, max_length=100)


class OriginSnippetOut(ApiModel):
    id: str
    audio_artifact_id: str
    windows: list[dict[str, Any]]
    created_at: str


class OriginSnippetList(ApiModel):
    snippets: list[OriginSnippetOut]


class OriginQuery(_In):
    artifact: str = Field(pattern=r"^ar_[0-9a-f]{20}$")

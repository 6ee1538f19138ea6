"""The timeline document: its JSON Schema (published at ``GET /video/timeline.schema.json``) and its
validation, whose errors each carry the JSON pointer of the exact clip or field at fault."""
from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag, ValidationError, model_validator

from studio.kernel.api_model import ApiModel

MAX_TRACKS = 16
MAX_CLIPS = 500
MAX_DURATION_S = 4 * 3600.0
_ID = r"^[A-Za-z0-9_-]{1,40}$"
Seconds = Annotated[float, Field(ge=0, le=MAX_DURATION_S, allow_inf_nan=False)]


class _Strict(ApiModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Fade(_Strict):
    fade_in: Seconds = 0.0
    fade_out: Seconds = 0.0


class Transition(_Strict):
    """A crossfade into this clip from the one before it on the same track."""
    kind: Literal["crossfade"] = "crossfade"
    duration: Annotated[float, Field(gt=0, le=5, allow_inf_nan=False)]


class MediaClip(_Strict):
    """A window of a media asset or artifact placed on a track: plays source [in, out) from ``start``."""
    id: str = Field(pattern=_ID)
    source: str = Field(pattern=r"^(as|ar)_[0-9a-f]{20}$", description="a media asset (as_) or artifact (ar_) id")
    in_: Seconds = Field(default=0.0, alias="in")
    out: Seconds
    start: Seconds = 0.0
    speed: Annotated[float, Field(ge=0.25, le=4.0, allow_inf_nan=False)] = 1.0
    volume: Annotated[float, Field(ge=0, le=4, allow_inf_nan=False)] = 1.0
    fades: Fade = Field(default_factory=Fade)
    mask: str | None = Field(default=None, pattern=r"^(as|ar)_[0-9a-f]{20}$",
                             description="an image or video (asset or artifact) masking the clip, scaled to it: "
                                         "where the mask is black (or transparent) the layer below shows")
    mask_mode: Literal["luma", "alpha"] = Field(
        default="luma", description="which of the mask's planes is the clip's opacity: its brightness or its alpha")
    transition: Transition | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    @model_validator(mode="after")
    def _window(self) -> MediaClip:
        if self.out <= self.in_:
            raise ValueError("out must be after in")
        return self

    def length(self) -> float:
        """Seconds this clip occupies on the timeline (the source window played at ``speed``)."""
        return (self.out - self.in_) / self.speed


class TextAnimation(_Strict):
    kind: Literal["none", "fade", "slide_up"] = "none"
    duration: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)] = 0.5


class TextClip(_Strict):
    id: str = Field(pattern=_ID)
    text: str = Field(min_length=1, max_length=500)
    start: Seconds = 0.0
    duration: Annotated[float, Field(gt=0, le=MAX_DURATION_S, allow_inf_nan=False)]
    font_preset: str | None = Field(default=None, max_length=64, description="a /fonts preset id; the default sans if unset")
    font_file: str | None = Field(default=None, pattern=r"^fn_[0-9a-f]{20}$", description="a registered font (/fonts)")
    size: int = Field(default=48, ge=4, le=512)
    color: str = Field(default="#ffffff", pattern=r"^#[0-9a-fA-F]{6}$")
    x: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.5
    y: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.9
    animation_in: TextAnimation = Field(default_factory=TextAnimation)
    animation_out: TextAnimation = Field(default_factory=TextAnimation)

    def length(self) -> float:
        return self.duration


class Ducking(_Strict):
    """This track ducks under ``under`` (another track's id) by ``db`` while that one sounds."""
    under: str = Field(pattern=_ID)
    db: Annotated[float, Field(gt=0, le=40, allow_inf_nan=False)] = 12.0
    attack_ms: Annotated[float, Field(ge=0.01, le=2000, allow_inf_nan=False)] = 20.0
    release_ms: Annotated[float, Field(ge=0.01, le=9000, allow_inf_nan=False)] = 250.0


def _clip_kind(value: Any) -> str:
    """A clip with ``text`` is a text clip: the tag keeps pydantic from reporting every union member."""
    has_text = "text" in value if isinstance(value, dict) else isinstance(value, TextClip)
    return "text" if has_text else "media"


AnyClip = Annotated[Annotated[MediaClip, Tag("media")] | Annotated[TextClip, Tag("text")], Discriminator(_clip_kind)]


class Track(_Strict):
    id: str = Field(pattern=_ID)
    kind: Literal["video", "audio", "text", "overlay"]
    clips: list[AnyClip] = Field(default_factory=list, max_length=MAX_CLIPS)
    ducking: Ducking | None = None
    muted: bool = False


class AudioOut(_Strict):
    sample_rate: Literal[44100, 48000] = 48000
    channels: Literal[1, 2] = 2
    bitrate_kbps: int = Field(default=128, ge=32, le=512)
    loudness_lufs: Annotated[float, Field(ge=-40, le=-5, allow_inf_nan=False)] = -16.0


class Output(_Strict):
    width: int = Field(default=1280, ge=16, le=3840, multiple_of=2)
    height: int = Field(default=720, ge=16, le=2160, multiple_of=2)
    fps: int = Field(default=25, ge=1, le=60)
    codec: Literal["h264", "vp9", "av1"] = "h264"
    quality: int = Field(default=23, ge=0, le=51, description="constant rate factor: lower is better and larger")
    audio: AudioOut = Field(default_factory=AudioOut)
    chunk_seconds: Annotated[float, Field(ge=0.5, le=600, allow_inf_nan=False)] = Field(
        default=10.0, description="target length of one parallel render chunk (boundaries move off fades and transitions)")


class Timeline(_Strict):
    tracks: list[Track] = Field(default_factory=list, max_length=MAX_TRACKS)
    output: Output = Field(default_factory=Output)


def schema() -> dict[str, Any]:
    """The published JSON Schema of a timeline (by alias: a clip's source start is ``in``)."""
    out = Timeline.model_json_schema(by_alias=True)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "/video/timeline.schema.json"
    return out


def _pointer(loc: tuple[int | str, ...]) -> str:
    # the union's tag ("media", "text") appears in pydantic's loc right after a clip's index; no document key
    parts = [str(p) for i, p in enumerate(loc)
             if not (p in ("media", "text") and i >= 1 and isinstance(loc[i - 1], int) and "clips" in loc[:i])]
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def problems(raw: Any) -> list[dict[str, str]]:
    """Every problem of a timeline, each as ``{pointer, message}``; empty when it is valid."""
    try:
        timeline = Timeline.model_validate(raw)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            found.setdefault(_pointer(tuple(err["loc"])), str(err["msg"]))
        return [{"pointer": p, "message": m} for p, m in found.items()]
    return semantic_problems(timeline)


def semantic_problems(timeline: Timeline) -> list[dict[str, str]]:
    """What a schema cannot say: unique ids, clips on the right kind of track, no overlaps, ducking targets."""
    out: list[dict[str, str]] = []
    track_ids: set[str] = set()
    clip_ids: set[str] = set()
    for ti, track in enumerate(timeline.tracks):
        base = f"/tracks/{ti}"
        if track.id in track_ids:
            out.append({"pointer": f"{base}/id", "message": f"track id {track.id!r} is used twice"})
        track_ids.add(track.id)
        spans: list[tuple[float, float, int]] = []
        for ci, clip in enumerate(track.clips):
            at = f"{base}/clips/{ci}"
            if clip.id in clip_ids:
                out.append({"pointer": f"{at}/id", "message": f"clip id {clip.id!r} is used twice"})
            clip_ids.add(clip.id)
            if (track.kind == "text") != isinstance(clip, TextClip):
                out.append({"pointer": at, "message": f"a {track.kind} track cannot hold this kind of clip"})
                continue
            end = clip.start + clip.length()
            if end > MAX_DURATION_S or not math.isfinite(end):
                out.append({"pointer": at, "message": f"the clip ends after {MAX_DURATION_S:.0f} s"})
            overlap = 0.0
            if isinstance(clip, MediaClip) and clip.transition is not None:
                overlap = clip.transition.duration
            for s, e, other in spans:
                if clip.start < e - overlap - 1e-6 and s < end - 1e-6:
                    out.append({"pointer": at, "message": f"overlaps clip {other} of the same track"})
                    break
            spans.append((clip.start, end, ci))
    for ti, track in enumerate(timeline.tracks):
        if track.ducking is not None:
            if track.kind not in ("audio", "video"):
                out.append({"pointer": f"/tracks/{ti}/ducking", "message": "only a track with sound can duck"})
            elif track.ducking.under not in track_ids or track.ducking.under == track.id:
                out.append({"pointer": f"/tracks/{ti}/ducking/under", "message": "no other track has that id"})
    return out


def duration(timeline: Timeline) -> float:
    """Where the last clip ends (0 for an empty timeline)."""
    return max((c.start + c.length() for t in timeline.tracks for c in t.clips), default=0.0)

"""Timeline commands: each edit names the one clip it changes, so two editors of one project conflict
on the revision they both started from instead of the last full write silently winning."""
from __future__ import annotations

import copy
from typing import Any

from studio.kernel import errors
from studio.video.errors import CLIP_NOT_FOUND


def _find(timeline: dict[str, Any], clip_id: str) -> tuple[dict[str, Any], int]:
    for track in timeline.get("tracks", []):
        for i, clip in enumerate(track.get("clips", [])):
            if clip.get("id") == clip_id:
                return track, i
    raise errors.StudioError(CLIP_NOT_FOUND, f"no clip {clip_id!r} in the timeline")


def _track(timeline: dict[str, Any], track_id: str) -> dict[str, Any]:
    for track in timeline.get("tracks", []):
        if track.get("id") == track_id:
            found: dict[str, Any] = track
            return found
    raise errors.StudioError(CLIP_NOT_FOUND, f"no track {track_id!r} in the timeline")


def add_clip(timeline: dict[str, Any], track_id: str, clip: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(timeline)
    _track(out, track_id).setdefault("clips", []).append(clip)
    return out


def move_clip(timeline: dict[str, Any], clip_id: str, start: float, track_id: str | None) -> dict[str, Any]:
    out = copy.deepcopy(timeline)
    track, i = _find(out, clip_id)
    clip = track["clips"][i]
    clip["start"] = start
    if track_id is not None and track_id != track.get("id"):
        del track["clips"][i]
        _track(out, track_id).setdefault("clips", []).append(clip)
    return out


def trim_clip(timeline: dict[str, Any], clip_id: str, in_: float | None, out_: float | None) -> dict[str, Any]:
    out = copy.deepcopy(timeline)
    track, i = _find(out, clip_id)
    clip = track["clips"][i]
    if "text" in clip:  # a text clip has no source window: trimming sets its duration
        if out_ is not None:
            clip["duration"] = out_ - (in_ or 0.0)
        return out
    if in_ is not None:
        clip["in"] = in_
    if out_ is not None:
        clip["out"] = out_
    return out


def remove_clip(timeline: dict[str, Any], clip_id: str) -> dict[str, Any]:
    out = copy.deepcopy(timeline)
    track, i = _find(out, clip_id)
    del track["clips"][i]
    return out

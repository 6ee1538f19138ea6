"""Timeline commands for ``POST /commands`` (target: the project). Each names one clip and the
revision the editor saw, so two editors conflict precisely (409) instead of the last write winning."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.kernel.commands import CommandOutcome, CommandType
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps
from studio.kernel.roles import Role
from studio.video import edits
from studio.video import models as m
from studio.video.services import video_services


def _run(deps: Deps, ctx: RequestContext, project_id: str, base_rev: int, name: str,
         edit: Callable[[dict[str, Any]], dict[str, Any]]) -> CommandOutcome:
    view, event = video_services(deps).projects.edit_timeline(ctx, project_id, base_rev, edit, name)
    return CommandOutcome(view["rev"], [event.summary()])


def _add(deps: Deps, ctx: RequestContext, target: str, base_rev: int, p: m.AddClip) -> CommandOutcome:
    return _run(deps, ctx, target, base_rev, "timeline.add_clip", lambda tl: edits.add_clip(tl, p.track_id, p.clip))


def _move(deps: Deps, ctx: RequestContext, target: str, base_rev: int, p: m.MoveClip) -> CommandOutcome:
    return _run(deps, ctx, target, base_rev, "timeline.move_clip",
                lambda tl: edits.move_clip(tl, p.clip_id, p.start, p.track_id))


def _trim(deps: Deps, ctx: RequestContext, target: str, base_rev: int, p: m.TrimClip) -> CommandOutcome:
    return _run(deps, ctx, target, base_rev, "timeline.trim_clip",
                lambda tl: edits.trim_clip(tl, p.clip_id, p.in_, p.out))


def _remove(deps: Deps, ctx: RequestContext, target: str, base_rev: int, p: m.RemoveClip) -> CommandOutcome:
    return _run(deps, ctx, target, base_rev, "timeline.remove_clip", lambda tl: edits.remove_clip(tl, p.clip_id))


COMMANDS = (
    CommandType("timeline.add_clip", "video_project", m.AddClip, Role.MEMBER, _add, "Add a clip to a track"),
    CommandType("timeline.move_clip", "video_project", m.MoveClip, Role.MEMBER, _move,
                "Move a clip in time (and to another track)"),
    CommandType("timeline.trim_clip", "video_project", m.TrimClip, Role.MEMBER, _trim, "Set a clip's in/out points"),
    CommandType("timeline.remove_clip", "video_project", m.RemoveClip, Role.MEMBER, _remove, "Remove a clip"),
)

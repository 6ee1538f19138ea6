"""The video domain's services, built once per instance from the ports."""
from __future__ import annotations

from dataclasses import dataclass

from studio.kernel.deps import Deps, Slot
from studio.video.credentials import RenderCredentials
from studio.video.finish import Finisher
from studio.video.jobs import RenderJobs
from studio.video.origin_snippets import OriginSnippets
from studio.video.part_worker import PartWorker
from studio.video.projects import ProjectService


@dataclass(frozen=True)
class VideoServices:
    projects: ProjectService
    jobs: RenderJobs
    origins: OriginSnippets
    parts: PartWorker


VIDEO: Slot[VideoServices] = Slot("video")


def _build(deps: Deps) -> VideoServices:
    projects = ProjectService(deps.store)
    return VideoServices(projects, RenderJobs(deps.store, deps.bus, deps.blobs, projects),
                         OriginSnippets(deps.store),
                         PartWorker(deps.store, deps.bus, deps.blobs, Finisher(deps.store, deps.bus, deps.blobs,
                                                                 RenderCredentials(deps))))


def video_services(deps: Deps) -> VideoServices:
    return deps.memo(VIDEO, lambda: _build(deps))

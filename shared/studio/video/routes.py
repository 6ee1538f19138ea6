"""HTTP routes of the video domain: projects and their timeline, the timeline schema, render jobs."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call, Reply, Text
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.video import errors as _codes  # noqa: F401 - registered with the routes, as before the services went lazy
from studio.video.schema_file import schema_text

if TYPE_CHECKING:
    from studio.kernel.deps import Deps
    from studio.video import models as m
    from studio.video.services import VideoServices
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.video.models")

video = Router("video")


@video.tenant("GET", "/video/timeline.schema.json", role=Role.VIEWER)
def timeline_schema(call: Call) -> Any:
    """The timeline's JSON Schema (2020-12): tracks, clips, text clips, ducking and output."""
    return Text(schema_text(), "application/json")  # generated from the models (infra/timeline_schema.py)


def video_services(deps: Deps) -> VideoServices:
    """The domain's services, imported on first use: the render planner's timeline models load pydantic,
    which the schema route above does not need (decision 0097)."""
    from studio.video.services import video_services as services

    return services(deps)


@video.tenant("POST", "/video/projects", role=Role.MEMBER, body=m.ProjectIn, response=m.ProjectOut, status=201)
def create_project(call: Call) -> Any:
    """A project with a timeline (empty if none is given); TIMELINE_INVALID points at each fault."""
    return video_services(call.deps).projects.create(call.need_ctx(), call.body.name, call.body.timeline)


@video.tenant("GET", "/video/projects", role=Role.VIEWER, query=m.PageQuery, response=m.ProjectList)
def list_projects(call: Call) -> Any:
    """The tenant's projects, newest first."""
    return video_services(call.deps).projects.list_projects(call.need_ctx(), call.query.limit, call.query.page_token)


@video.tenant("GET", "/video/projects/{project_id}", role=Role.VIEWER, response=m.ProjectOut)
def get_project(call: Call) -> Any:
    """One project with its timeline."""
    return video_services(call.deps).projects.get(call.need_ctx(), call.params["project_id"])


def _project_rev(call: Call) -> int | None:
    return video_services(call.deps).projects.current_rev(call.need_ctx(), call.params["project_id"])


@video.tenant("PATCH", "/video/projects/{project_id}", role=Role.MEMBER, body=m.ProjectPatch,
              response=m.ProjectOut, revisioned=True, current_rev=_project_rev)
def patch_project(call: Call) -> Any:
    """Rename, or replace the whole timeline; needs If-Match or base_rev (a clip edit is a command)."""
    return video_services(call.deps).projects.patch(call.need_ctx(), call.params["project_id"], call.body.name,
                                                    call.body.timeline, call.expected_rev())


@video.tenant("DELETE", "/video/projects/{project_id}", role=Role.MEMBER, query=RevisionQuery, status=204,
              revisioned=True, current_rev=_project_rev)
def delete_project(call: Call) -> Any:
    """Delete a project (its renders stay as media artifacts)."""
    video_services(call.deps).projects.delete(call.need_ctx(), call.params["project_id"], call.expected_rev())
    return Reply(None, status=204)


@video.tenant("POST", "/video/render/dry-run", role=Role.MEMBER, body=m.RenderIn, response=m.PlanOut)
def dry_run(call: Call) -> Any:
    """The ffmpeg plan the worker would run for this project revision, and an estimate; nothing is rendered."""
    return video_services(call.deps).jobs.dry_run(call.need_ctx(), call.body.project_id, call.body.rev)


@video.tenant("POST", "/video/render", role=Role.MEMBER, body=m.RenderIn, response=m.RenderJobOut, status=202)
def request_render(call: Call) -> Any:
    """Queue a render of a project revision; progress arrives on the meta channel (render.progress)."""
    job = video_services(call.deps).jobs.request(call.need_ctx(), call.body.project_id, call.body.rev)
    return Reply(job, status=202, headers={"Location": f"/video/render/jobs/{job['id']}"})


@video.tenant("GET", "/video/render/jobs", role=Role.VIEWER, query=m.JobListQuery, response=m.RenderJobList)
def list_jobs(call: Call) -> Any:
    """Render jobs, newest first; filter by status, project and a created range."""
    q = call.query
    return video_services(call.deps).jobs.list_jobs(
        call.need_ctx(), q.status, q.project_id, _stamp(q.created_after), _stamp(q.created_before), q.limit,
        q.page_token)


@video.tenant("GET", "/video/render/jobs/{job_id}", role=Role.VIEWER, response=m.RenderJobOut)
def get_job(call: Call) -> Any:
    """One render job: status, chunk states, the plan it runs, and its artifact once done."""
    return video_services(call.deps).jobs.get(call.need_ctx(), call.params["job_id"])


@video.tenant("POST", "/video/render/jobs/{job_id}/cancel", role=Role.MEMBER, response=m.RenderJobOut)
def cancel_job(call: Call) -> Any:
    """Cancel a queued or running job: chunks in flight are stopped."""
    return video_services(call.deps).jobs.cancel(call.need_ctx(), call.params["job_id"])


@video.tenant("POST", "/origin-snippets/from-audio", role=Role.MEMBER, body=m.OriginSnippetsIn,
              response=m.OriginSnippetOut, status=201)
def link_origin_snippets(call: Call) -> Any:
    """Link windows of an audio artifact back to the video windows they came from (the ledger's lineage)."""
    body = call.body
    windows = [w.model_dump() for w in body.windows]
    return video_services(call.deps).origins.link(call.need_ctx(), body.audio_artifact_id, windows)


@video.tenant("GET", "/origin-snippets", role=Role.VIEWER, query=m.OriginQuery, response=m.OriginSnippetList)
def list_origin_snippets(call: Call) -> Any:
    """The origin snippets of an audio artifact (?artifact=)."""
    return video_services(call.deps).origins.of_artifact(call.need_ctx(), call.query.artifact)


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


ROUTERS = (video,)

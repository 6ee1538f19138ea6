"""The video domain's built-in tool: queue a render of a project revision, as POST /video/render does
(the job runs on the render worker; the caller follows it on the meta channel or GET the job)."""
from __future__ import annotations

from typing import Any

from studio.kernel.roles import Role
from studio.kernel.tools import ToolCost, ToolInvocation, ToolSpec
from studio.video.routes import video_services  # imports the services on first use


def _render(call: ToolInvocation) -> dict[str, Any]:
    job = video_services(call.deps).jobs.request(call.ctx, str(call.input["project_id"]), int(call.input["rev"]))
    return {"job_id": job["id"], "status": job["status"], "chunks": len(job["chunks"]),
            "estimate": job.get("estimate", {})}


TOOLS = (
    ToolSpec(
        "video.render", "1.0.0", "Render a video project",
        "Queue a render of a project at a revision: chunks in parallel, concat, audio mix; the output becomes "
        "a media artifact with a provenance entry.",
        {"type": "object", "additionalProperties": False, "required": ["project_id", "rev"],
         "properties": {"project_id": {"type": "string", "pattern": "^vp_[0-9a-f]{16}$"},
                        "rev": {"type": "integer", "minimum": 1, "maximum": 9007199254740991}}},
        {"type": "object", "required": ["job_id", "status"],
         "properties": {"job_id": {"type": "string"}, "status": {"type": "string"}, "chunks": {"type": "integer"},
                        "estimate": {"type": "object"}}},
        _render, danger="low", side_effects="write", idempotent=False, required_role=Role.MEMBER,
        cost=ToolCost(usd=0.01),
    ),
)

"""The store queries the video domain makes (sample values; the shape decides the index)."""
from __future__ import annotations

from typing import Literal

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_PROJECTS = "tenants/t_abc/envs/dev/video_projects"
_JOBS = "tenants/t_abc/envs/dev/render_jobs"
_PARTS = "tenants/t_abc/envs/dev/render_jobs/rj_0123456789abcdef/render_parts"
_NEWEST: list[tuple[str, Literal["asc", "desc"]]] = [("created_at", "desc")]
_RANGE = [Filter("created_at", ">=", "2026-01-01T00:00:00Z"), Filter("created_at", "<", "2026-02-01T00:00:00Z")]

QUERIES = (
    StoreQuery("video/origin_snippets.py:of_artifact", Query("tenants/t_abc/envs/dev/origin_snippets",
                                                             [Filter("audio_artifact_id", "==", "ar_1")], limit=100)),
    StoreQuery("video/text_styles.py:with_presets", Query("tenants/t_abc/envs/dev/fonts",
                                                          [Filter("family", "==", "Inter")], limit=50)),
    StoreQuery("video/projects.py:list_projects", Query(_PROJECTS, [], _NEWEST, 50)),
    # list_jobs: any of status and project, with or without a created range
    StoreQuery("video/jobs.py:list_jobs", Query(_JOBS, _RANGE, _NEWEST, 50)),
    StoreQuery("video/jobs.py:list_jobs", Query(_JOBS, [Filter("status", "==", "done"), *_RANGE], _NEWEST, 50)),
    StoreQuery("video/jobs.py:list_jobs", Query(_JOBS, [Filter("project_id", "==", "vp_1")], _NEWEST, 50)),
    StoreQuery("video/jobs.py:list_jobs", Query(_JOBS, [Filter("status", "==", "done"),
                                                        Filter("project_id", "==", "vp_1")], _NEWEST, 50)),
    # a job's parts: all of them in plan order (views, progress, the finish), or the unfinished ones
    StoreQuery("video/parts.py:read_all", Query(_PARTS, [], [("order", "asc")], 500)),
    StoreQuery("video/parts.py:unfinished", Query(_PARTS, [Filter("state", "in", ["queued", "running", "failed"])],
                                                  limit=2)),
)

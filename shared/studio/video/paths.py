"""Where the video domain keeps its documents, and the render work files' names."""
from studio.kernel.paths import tenant_collection


def projects(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "video_projects")


def project(tenant_id: str, env: str, project_id: str) -> str:
    return f"{projects(tenant_id, env)}/{project_id}"


def jobs(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "render_jobs")


def job(tenant_id: str, env: str, job_id: str) -> str:
    return f"{jobs(tenant_id, env)}/{job_id}"

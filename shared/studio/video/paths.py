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


def parts(tenant_id: str, env: str, job_id: str) -> str:
    """A render job's parts (its chunks and its audio mix), one document each (decision 0087)."""
    return f"{job(tenant_id, env, job_id)}/render_parts"


def part(tenant_id: str, env: str, job_id: str, name: str) -> str:
    return f"{parts(tenant_id, env, job_id)}/{name}"


def part_object(tenant_id: str, env: str, job_id: str, file_name: str) -> str:
    """Where a rendered part waits in the media bucket for the job's finisher (deleted once it ran)."""
    return f"{tenant_id}/{env}/render-work/{job_id}/{file_name}"

"""Document paths: validation and the tenant-scoped layout of BLUEPRINT section 4."""
from __future__ import annotations

import re

from studio.kernel import errors

_SEGMENT = re.compile(r"^[A-Za-z0-9_.@:+=~-]{1,200}$")


def _segments(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    for part in parts:
        if not _SEGMENT.match(part) or part in {".", ".."} or (part.startswith("__") and part.endswith("__")):
            raise errors.StudioError(errors.BAD_REQUEST, f"invalid path segment {part!r}")
    return parts


def check_document_path(path: str) -> str:
    parts = _segments(path)
    if len(parts) % 2:
        raise errors.StudioError(errors.BAD_REQUEST, f"{path!r} is not a document path")
    return "/".join(parts)


def check_collection_path(path: str) -> str:
    parts = _segments(path)
    if len(parts) % 2 == 0:
        raise errors.StudioError(errors.BAD_REQUEST, f"{path!r} is not a collection path")
    return "/".join(parts)


def tenant_root(tenant_id: str, env: str) -> str:
    """Every piece of tenant data lives under this prefix (rules and queries scope by it)."""
    return f"tenants/{tenant_id}/envs/{env}"


def tenant_collection(tenant_id: str, env: str, collection: str) -> str:
    return f"{tenant_root(tenant_id, env)}/{collection}"

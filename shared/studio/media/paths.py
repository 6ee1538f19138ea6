"""Where media documents and blobs live. Documents under the tenant's env (BLUEPRINT 4); blobs
in two bucket roles: ``uploads`` (what clients send, the finalize trigger's bucket) and ``media``
(what the platform derives)."""
from __future__ import annotations

import re

from studio.kernel.paths import tenant_collection

UPLOADS_BUCKET = "uploads"
MEDIA_BUCKET = "media"
_UPLOAD_NAME = re.compile(r"^(t_[a-z0-9]{3,})/(dev|staging|prod)/assets/(as_[0-9a-f]{20})$")


def assets(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "media_assets")


def asset(tenant_id: str, env: str, asset_id: str) -> str:
    return f"{assets(tenant_id, env)}/{asset_id}"


def artifacts(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "media_artifacts")


def artifact(tenant_id: str, env: str, artifact_id: str) -> str:
    return f"{artifacts(tenant_id, env)}/{artifact_id}"


def content(tenant_id: str, env: str, sha256: str) -> str:
    """The dedupe index: one document per distinct content (sha256) in the tenant's env."""
    return f"{tenant_collection(tenant_id, env, 'media_contents')}/{sha256}"


def upload_object(tenant_id: str, env: str, asset_id: str) -> str:
    """The object a client uploads an asset's bytes to (bucket role ``uploads``)."""
    return f"{tenant_id}/{env}/assets/{asset_id}"


def parse_upload_object(name: str) -> tuple[str, str, str] | None:
    """(tenant, env, asset id) of an upload object, None for any other object in the bucket."""
    m = _UPLOAD_NAME.match(name)
    return None if m is None else (m.group(1), m.group(2), m.group(3))


def tenant_prefix(tenant_id: str, env: str) -> str:
    """Objects a tenant may register from its bucket start with this."""
    return f"{tenant_id}/{env}/"


def artifact_object(tenant_id: str, env: str, artifact_id: str, ext: str) -> str:
    return f"{tenant_id}/{env}/artifacts/{artifact_id}.{ext}"

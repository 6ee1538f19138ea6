"""GET /provenance/c2pa/{artifact_id}: the artifact's file, found through the ledger, its C2PA
manifest read back and validated.

The ledger entry that produced the artifact names its stored file in its output ref (``blob``, the
object name; ``bucket``, the bucket role; ``mime``). A ref without one falls back to where derived
files live by convention: ``<tenant>/<env>/artifacts/<artifact_id>.<ext>`` in the ``media`` bucket role
(media's ``paths.artifact_object``; this domain sits below media and does not import it). Only an object
under the tenant's own prefix (``<tenant>/<env>/``) is read: a record naming another tenant's file is
refused, not followed. A file c2pa cannot embed in (WebM) is read with the sidecar manifest store
stored beside it (``<name>.c2pa``, decision 0092).
"""
from __future__ import annotations

import hashlib
from typing import Any

from studio.kernel import errors
from studio.kernel.deps import Deps
from studio.ports.store import Filter, Query
from studio.provenance import paths
from studio.provenance.c2pa_sign import SIDECAR_SUFFIX, embeddable, read_manifest
from studio.provenance.errors import ARTIFACT_BLOB_UNKNOWN

DEFAULT_BUCKET = "media"  # the bucket role of derived files (media's MEDIA_BUCKET)
MAX_FILE_BYTES = 64 * 1024 * 1024  # read whole into memory (the function has 512 MiB); videos stream later
MAX_SIDECAR_BYTES = 4 * 1024 * 1024  # a manifest store with a thumbnail-less claim is a few KiB


def _output_ref(deps: Deps, tenant_id: str, env: str, artifact_id: str) -> dict[str, Any]:
    page = deps.store.query(Query(paths.entries(tenant_id, env), [Filter("product_ids", "array_contains", artifact_id)],
                                  limit=100))
    if not page.docs:
        raise errors.NotFound(f"the ledger has no artifact {artifact_id!r}")
    refs = [dict(ref) for doc in sorted(page.docs, key=lambda d: int(d.data["seq"]), reverse=True)  # latest first
            for ref in doc.data.get("outputs", []) if ref.get("id") == artifact_id]
    named = next((ref for ref in refs if ref.get("blob")), None)
    if named is not None:
        return named
    found = deps.blobs.list_blobs(DEFAULT_BUCKET, f"{tenant_id}/{env}/artifacts/{artifact_id}.", limit=2)
    if len(found) == 1:
        return {**(refs[0] if refs else {}), "blob": found[0].name, "bucket": DEFAULT_BUCKET}
    raise errors.StudioError(ARTIFACT_BLOB_UNKNOWN, f"no ledger entry names the file of {artifact_id!r}")


def c2pa_report(deps: Deps, tenant_id: str, env: str, artifact_id: str) -> dict[str, Any]:
    ref = _output_ref(deps, tenant_id, env, artifact_id)
    name = str(ref["blob"])
    if not name.startswith(f"{tenant_id}/{env}/"):
        raise errors.StudioError(ARTIFACT_BLOB_UNKNOWN, "the ledger names a file outside this tenant's space")
    bucket = str(ref.get("bucket") or DEFAULT_BUCKET)
    info = deps.blobs.stat(bucket, name)
    if info is None:
        raise errors.NotFound(f"the file of {artifact_id!r} is gone")
    if info.size > MAX_FILE_BYTES:
        raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, "the file is too large to validate here")
    data, info = deps.blobs.get(bucket, name)
    mime = str(ref.get("mime") or info.content_type)
    sha = hashlib.sha256(data).hexdigest()
    sidecar = None if embeddable(mime) else _sidecar(deps, bucket, name)
    report = read_manifest(deps, data, mime, sidecar)
    return {"artifact_id": artifact_id, "mime": mime, "sha256": sha,
            "sha256_matches_ledger": (sha == ref["sha256"]) if ref.get("sha256") else None,
            "manifest_location": "embedded" if sidecar is None else "sidecar", **report}


def _sidecar(deps: Deps, bucket: str, name: str) -> bytes | None:
    """The manifest store beside a file c2pa cannot embed in (``<name>.c2pa``), if there is one."""
    info = deps.blobs.stat(bucket, name + SIDECAR_SUFFIX)
    if info is None:
        return None
    if info.size > MAX_SIDECAR_BYTES:
        raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, "the sidecar manifest is too large to validate here")
    return deps.blobs.get(bucket, name + SIDECAR_SUFFIX)[0]

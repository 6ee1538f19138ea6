"""HTTP routes of the media domain (the audit's /media-v2 paths)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.call import Call, Reply
from studio.kernel.json_input import parse_json
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.problems import from_validation_error
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.media import errors as media_errors
from studio.media.services import media_services

if TYPE_CHECKING:
    from studio.media import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.media.models")

media = Router("media")
MULTIPART_MAX_BYTES = 1 << 20  # the kernel's body limit: bigger files take an upload URL


@media.tenant("POST", "/media-v2/uploads", role=Role.MEMBER, body=m.UploadIn, response=m.UploadOut, status=201)
def create_upload(call: Call) -> Any:
    """An asset waiting for its bytes, and a signed URL to PUT them to (size and type bound)."""
    b = call.body
    return media_services(call.deps).assets.create_upload(call.need_ctx(), b.filename, b.content_type, b.size_bytes,
                                                          b.title)


@media.tenant("POST", "/media-v2/assets", role=Role.MEMBER, response=m.AssetOut, status=201, reads_body=True)
def create_asset(call: Call) -> Any:
    """Register an asset: multipart/form-data with one 'file' part (small files), or JSON
    {object_name, filename?, title?} naming an object already in the tenant's upload bucket."""
    from studio.media.models import (  # pydantic: loaded by the first request that needs it
        RegisterIn,
        UploadIn,
    )

    request, ctx, assets = call.request, call.need_ctx(), media_services(call.deps).assets
    if request.mimetype == "multipart/form-data":
        files = request.files.getlist("file")
        if len(files) != 1 or not files[0].filename:
            raise errors.StudioError(media_errors.MEDIA_MULTIPART_INVALID)
        part = files[0]
        filename = part.filename or ""
        data = part.read(MULTIPART_MAX_BYTES + 1)
        if len(data) > MULTIPART_MAX_BYTES:
            raise errors.StudioError(media_errors.MEDIA_TOO_LARGE, "multipart uploads are for files up to 1 MiB")
        if not data:
            raise errors.StudioError(media_errors.MEDIA_MULTIPART_INVALID, "the file part is empty")
        form = _validated(UploadIn, {"filename": filename[:255], "content_type": part.mimetype or "",
                                       "size_bytes": len(data), "title": request.form.get("title") or None})
        return assets.upload_small(ctx, form.filename, form.content_type, data, form.title)
    if request.mimetype != "application/json":
        raise errors.StudioError(errors.UNSUPPORTED_MEDIA_TYPE, "send multipart/form-data or application/json")
    body = _validated(RegisterIn, parse_json(request.get_data(cache=True) or b"{}"))
    return assets.register_object(ctx, body.object_name, body.filename, body.title)


def _validated(model: Any, data: Any) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, location="body") from None


@media.tenant("GET", "/media-v2/assets", role=Role.VIEWER, query=m.AssetListQuery, response=m.AssetList)
def list_assets(call: Call) -> Any:
    """Assets of the tenant, newest first; filters: kind, status, created range."""
    q = call.query
    return media_services(call.deps).assets.list_assets(call.need_ctx(), q.kind, q.status, q.created_after,
                                                        q.created_before, q.limit, q.page_token)


@media.tenant("GET", "/media-v2/assets/{asset_id}", role=Role.VIEWER, response=m.AssetOut)
def get_asset(call: Call) -> Any:
    """One asset, with a short-lived download URL and its srcset once ready."""
    return media_services(call.deps).assets.get(call.need_ctx(), call.params["asset_id"])


def asset_rev(call: Call) -> int | None:
    """The asset's revision (404 when there is none)."""
    return media_services(call.deps).assets.current_rev(call.need_ctx(), call.params["asset_id"])


@media.tenant("PATCH", "/media-v2/assets/{asset_id}", role=Role.MEMBER, body=m.AssetPatch, response=m.AssetOut,
              revisioned=True, current_rev=asset_rev)
def patch_asset(call: Call) -> Any:
    """Edit title, tags or alt text (through the privacy policy); needs If-Match or base_rev."""
    b = call.body
    return media_services(call.deps).assets.edit(call.need_ctx(), call.params["asset_id"],
                                                 {"title": b.title, "tags": b.tags, "alt_text": b.alt_text},
                                                 call.expected_rev())


@media.tenant("DELETE", "/media-v2/assets/{asset_id}", role=Role.MEMBER, query=RevisionQuery, status=204,
              revisioned=True, current_rev=asset_rev)
def delete_asset(call: Call) -> Any:
    """Delete an asset: gone from reads now, its bytes and artifacts purged after the grace period."""
    media_services(call.deps).assets.delete(call.need_ctx(), call.params["asset_id"], call.expected_rev())
    return Reply(None, status=204)


@media.tenant("GET", "/media-v2/assets/{asset_id}/artifacts", role=Role.VIEWER, response=m.ArtifactList)
def list_artifacts(call: Call) -> Any:
    """The asset's derived artifacts (variants, proxy, poster, placeholder, normalised audio ...)."""
    return media_services(call.deps).assets.artifacts_of(call.need_ctx(), call.params["asset_id"])


@media.tenant("POST", "/media-v2/assets/{asset_id}/artifacts", role=Role.MEMBER, body=m.ArtifactIn,
              response=m.ArtifactOut, status=201)
def register_artifact(call: Call) -> Any:
    """Register an artifact produced elsewhere, from an object in the tenant's upload bucket."""
    b = call.body
    return media_services(call.deps).assets.register_artifact(call.need_ctx(), call.params["asset_id"], b.kind,
                                                              b.object_name, b.params, b.tool)


@media.tenant("GET", "/media-v2/artifacts/{artifact_id}", role=Role.VIEWER, response=m.ArtifactOut)
def get_artifact(call: Call) -> Any:
    """One artifact, with a short-lived download URL."""
    return media_services(call.deps).assets.artifact(call.need_ctx(), call.params["artifact_id"])


ROUTERS = (media,)

"""Assets over HTTP: upload URLs, registration (multipart and JSON), reads with filters and
paging, revisioned edits, and deletion with a grace period."""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps
from studio.kernel.events import DomainEvent, emit
from studio.media import artifacts, documents, paths
from studio.media import errors as media_errors
from studio.media.ingest import Ingest, expired
from studio.media.metadata_filter import extracted_filter, filtered
from studio.media.provenance_data import provenance, ref
from studio.media.views import artifact_view, asset_view, object_ref
from studio.ports.blobs import BlobStore, upload_headers
from studio.ports.store import Document, Filter, Query, Transaction

UPLOAD_EXPIRES_S = 3600
RESUMABLE_ABOVE = 32 * 1024 * 1024  # larger uploads get a resumable session where the store offers one
RESUMABLE_WINDOW_S = 7 * 24 * 3600  # a GCS resumable session lives a week
MAX_PARAMS_BYTES = 4096


def delete_grace_s() -> int:
    """How long a deleted asset's bytes and artifacts are kept (restorable by support) before purge."""
    return int(os.environ.get("STUDIO_MEDIA_DELETE_GRACE_S", str(7 * 24 * 3600)))


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _live(doc: Document) -> bool:
    return not doc.data.get("deleted")


_ASSET_ID = re.compile(r"^as_[0-9a-f]{20}$")
_ARTIFACT_ID = re.compile(r"^ar_[0-9a-f]{20}$")


def _asset_path(ctx: RequestContext, asset_id: str) -> str:
    if not _ASSET_ID.match(asset_id):
        raise errors.NotFound("no such asset")
    return paths.asset(ctx.tenant_id, ctx.env, asset_id)


class AssetService:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        self._store = deps.store

    # The blob store (and its URL-signing key, read through the secret store) opens on first use: a list
    # that finds no asset signs nothing, and a function's first request need not pay for it (decision 0097).
    @property
    def _blobs(self) -> BlobStore:
        return self._deps.blobs

    @cached_property
    def _ingest(self) -> Ingest:
        return Ingest(self._store, self._deps.blobs, extracted_filter(self._deps))

    # -- creating ------------------------------------------------------------
    def _new_asset(self, ctx: RequestContext, *, filename: str, title: str | None, declared_type: str | None,
                   declared_size: int | None, obj: dict[str, Any], asset_id: str | None = None,
                   upload_window_s: int = UPLOAD_EXPIRES_S) -> Document:
        asset_id = asset_id or "as_" + secrets.token_hex(10)
        meta = filtered(self._deps, ctx.tenant_id, ctx.env, {"filename": filename, "title": title})

        def write(tx: Transaction) -> Document:
            doc = tx.create(paths.asset(ctx.tenant_id, ctx.env, asset_id), {
                "status": "uploading", "filename": meta["filename"], "title": meta["title"], "tags": [],
                "alt_text": None, "declared_type": declared_type, "declared_size": declared_size, "object": obj,
                "created_by": ctx.user_id, "created_at": utc_now(), "deleted": False, "kind": _kind_of(declared_type),
                "upload_deadline": _later(upload_window_s + 60)})
            emit(tx, DomainEvent("media.asset_created", ctx.tenant_id, ctx.env, doc.path, {
                "asset_id": asset_id, "declared_type": declared_type, "declared_size": declared_size}))
            return doc

        return self._store.run_transaction(write)

    def create_upload(self, ctx: RequestContext, filename: str, content_type: str, size_bytes: int,
                      title: str | None) -> dict[str, Any]:
        if documents.is_document_type(content_type) and size_bytes > documents.MAX_DOCUMENT_BYTES:
            raise errors.StudioError(media_errors.MEDIA_TOO_LARGE,
                                     f"documents are at most {documents.MAX_DOCUMENT_BYTES} bytes")
        asset_id = "as_" + secrets.token_hex(10)
        name = paths.upload_object(ctx.tenant_id, ctx.env, asset_id)
        resumable = getattr(self._blobs, "resumable_upload_url", None) if size_bytes > RESUMABLE_ABOVE else None
        doc = self._new_asset(ctx, filename=filename, title=title, declared_type=content_type,
                              declared_size=size_bytes, obj=object_ref(paths.UPLOADS_BUCKET, name), asset_id=asset_id,
                              upload_window_s=RESUMABLE_WINDOW_S if resumable is not None else UPLOAD_EXPIRES_S)
        # What the transaction returned, not what was minted before it: a keyed retry after a crash gets
        # the stored asset back from the idempotency journal, and must answer for that one.
        asset_id, name = doc.doc_id, doc.data["object"]["name"]
        if resumable is not None:  # GCS: a session the client PUTs chunks to, resuming after a drop
            url = str(resumable(paths.UPLOADS_BUCKET, name, content_type=content_type, size=size_bytes))
            return {"asset_id": asset_id, "upload_url": url, "method": "PUT", "headers": {"Content-Type": content_type},
                    "expires_at": _later(RESUMABLE_WINDOW_S), "resumable": True}
        url = self._blobs.signed_url(paths.UPLOADS_BUCKET, name, method="PUT", expires_s=UPLOAD_EXPIRES_S,
                                     content_type=content_type, max_bytes=size_bytes)
        return {"asset_id": asset_id, "upload_url": url, "method": "PUT",
                "headers": upload_headers(content_type, size_bytes), "expires_at": _later(UPLOAD_EXPIRES_S),
                "resumable": False}

    def upload_small(self, ctx: RequestContext, filename: str, content_type: str, data: bytes,
                     title: str | None) -> dict[str, Any]:
        """The multipart form: the bytes came with the request; stored, then ingested at once."""
        asset_id = "as_" + secrets.token_hex(10)
        name = paths.upload_object(ctx.tenant_id, ctx.env, asset_id)
        doc = self._new_asset(ctx, filename=filename, title=title, declared_type=content_type,
                              declared_size=len(data), obj=object_ref(paths.UPLOADS_BUCKET, name), asset_id=asset_id)
        name = doc.data["object"]["name"]  # the stored asset's object, also on a keyed retry (see create_upload)
        info = self._blobs.put(paths.UPLOADS_BUCKET, name, data, content_type)
        # On Cloud Storage the bucket's finalize event arrives too, and finds the asset done.
        self._ingest.ingest(ctx.tenant_id, ctx.env, doc.doc_id, info.generation)
        return _refuse_lying_document(self.get(ctx, doc.doc_id))

    def register_object(self, ctx: RequestContext, object_name: str, filename: str | None,
                        title: str | None) -> dict[str, Any]:
        """The JSON form: an object already in the tenant's upload bucket becomes an asset."""
        info = self._tenant_object(ctx, object_name)
        if paths.parse_upload_object(object_name) is not None:
            raise errors.StudioError(media_errors.MEDIA_OBJECT_REGISTERED)
        doc = self._new_asset(ctx, filename=filename or object_name.rsplit("/", 1)[-1], title=title,
                              declared_type=info.content_type if _kind_of(info.content_type) else None,
                              declared_size=None,
                              obj=object_ref(paths.UPLOADS_BUCKET, object_name, info.generation))
        self._ingest.ingest(ctx.tenant_id, ctx.env, doc.doc_id, info.generation)
        return _refuse_lying_document(self.get(ctx, doc.doc_id))

    def _tenant_object(self, ctx: RequestContext, object_name: str) -> Any:
        if not object_name.startswith(paths.tenant_prefix(ctx.tenant_id, ctx.env)):
            raise errors.StudioError(media_errors.MEDIA_OBJECT_MISSING)  # another tenant's objects do not exist here
        try:
            info = self._blobs.stat(paths.UPLOADS_BUCKET, object_name)
        except errors.StudioError:
            info = None  # a name the blob store refuses is no object of this tenant
        if info is None:
            raise errors.StudioError(media_errors.MEDIA_OBJECT_MISSING)
        return info

    # -- reading -------------------------------------------------------------
    def get_doc(self, ctx: RequestContext, asset_id: str) -> Document:
        doc = self._store.get(_asset_path(ctx, asset_id))
        if doc is None or not _live(doc):
            raise errors.NotFound("no such asset")
        return doc

    def _view(self, ctx: RequestContext, doc: Document) -> dict[str, Any]:
        content = None
        if doc.data.get("deduplicated_from"):
            content = self._store.get(paths.asset(ctx.tenant_id, ctx.env, doc.data["deduplicated_from"]))
        view = asset_view(doc, self._blobs, content)
        if view["status"] in ("uploading", "processing") and expired(doc.data.get("deadline")):
            view.update(status="failed", reason="timeout", download_url=None)  # the worker never came back
        elif view["status"] == "uploading" and expired(doc.data.get("upload_deadline")):
            view.update(status="failed", reason="the upload never arrived")  # its URL has expired
        return view

    def get(self, ctx: RequestContext, asset_id: str) -> dict[str, Any]:
        return self._view(ctx, self.get_doc(ctx, asset_id))

    def list_assets(self, ctx: RequestContext, kind: str | None, status: str | None, created_after: datetime | None,
                    created_before: datetime | None, limit: int, page_token: str | None) -> dict[str, Any]:
        filters = [Filter("deleted", "==", False)]
        if kind:
            filters.append(Filter("kind", "==", kind))
        if status:
            filters.append(Filter("status", "==", status))
        if created_after:
            filters.append(Filter("created_at", ">=", _stamp(created_after)))
        if created_before:
            filters.append(Filter("created_at", "<", _stamp(created_before)))
        page = self._store.query(Query(paths.assets(ctx.tenant_id, ctx.env), filters, [("created_at", "desc")],
                                       limit, page_token))
        return {"assets": [self._view(ctx, d) for d in page.docs], "next_page_token": page.next_cursor}

    # -- changing ------------------------------------------------------------
    def current_rev(self, ctx: RequestContext, asset_id: str) -> int:
        return self.get_doc(ctx, asset_id).rev

    def edit(self, ctx: RequestContext, asset_id: str, fields: dict[str, Any], base_rev: int) -> dict[str, Any]:
        changes = filtered(self._deps, ctx.tenant_id, ctx.env, {k: v for k, v in fields.items() if v is not None})
        if "tags" in changes:
            changes["tags"] = list(dict.fromkeys(changes["tags"]))  # once each, in the order given

        def event(before: Document, after: Document) -> DomainEvent:
            prov = provenance("edit", "user", ctx.user_id, {"kind": "asset", "id": asset_id},
                              inputs=[ref("asset", asset_id, before.data.get("sha256"))],
                              params={"fields": sorted(changes)}, outputs=[ref("asset", asset_id, after.data.get("sha256"))])
            return DomainEvent("media.asset_updated", ctx.tenant_id, ctx.env, after.path,
                               {"asset_id": asset_id, "fields": sorted(changes), "rev": after.rev, "provenance": prov})

        done = self._store.run_transaction(lambda tx: repository.update(
            tx, _asset_path(ctx, asset_id), base_rev, what="asset", exists=_live,
            change=lambda doc: dict(doc.data, **changes), event=event))
        return self._view(ctx, done.after)

    def delete(self, ctx: RequestContext, asset_id: str, base_rev: int) -> None:
        """Soft delete now (gone from every read), purge of bytes and artifacts after the grace period."""
        purge_after = _later(delete_grace_s())

        def event(before: Document, after: Document) -> DomainEvent:
            prov = provenance("delete", "user", ctx.user_id, {"kind": "asset", "id": asset_id},
                              inputs=[ref("asset", asset_id, before.data.get("sha256"))],
                              params={"purge_after": purge_after})
            return DomainEvent("media.asset_deleted", ctx.tenant_id, ctx.env, after.path,
                               {"asset_id": asset_id, "purge_after": purge_after, "provenance": prov})

        self._store.run_transaction(lambda tx: repository.update(
            tx, _asset_path(ctx, asset_id), base_rev, what="asset", exists=_live, event=event,
            change=lambda doc: dict(doc.data, deleted=True, deleted_at=utc_now(), purge_after=purge_after,
                                    purged=False)))

    def purge_due(self, tenant_id: str, env: str, limit: int = 50) -> int:
        """Remove the bytes and artifacts of assets whose grace period is over. Content another
        live asset points at (a deduplicated upload) is kept."""
        page = self._store.query(Query(paths.assets(tenant_id, env), [Filter("purged", "==", False),
                                                                      Filter("purge_after", "<=", utc_now())],
                                       [("purge_after", "asc")], limit))
        for doc in page.docs:
            self._purge(tenant_id, env, doc)
        return len(page.docs)

    def _purge(self, tenant_id: str, env: str, doc: Document) -> None:
        derived = self._store.query(Query(paths.artifacts(tenant_id, env), [Filter("asset_id", "==", doc.doc_id)],
                                            limit=500)).docs
        duplicates = self._store.query(Query(paths.assets(tenant_id, env),
                                             [Filter("deduplicated_from", "==", doc.doc_id)], limit=50)).docs
        if any(not d.data.get("deleted") for d in duplicates):
            # Live assets were deduplicated onto these bytes: look again one grace period later.
            def postpone(tx: Transaction) -> None:
                current = tx.get(doc.path)
                if current is not None and not current.data.get("purged"):
                    tx.put(doc.path, dict(current.data, purge_after=_later(delete_grace_s())), expected_rev=current.rev)

            self._store.run_transaction(postpone)
            return
        owned = [a.data.get("object") for a in derived]
        if not doc.data.get("deduplicated_from"):  # a duplicate's own upload was dropped at ingest
            owned.insert(0, doc.data.get("object"))
        for obj in owned:
            if obj:
                with contextlib.suppress(errors.NotFound):
                    self._blobs.delete(obj["bucket"], obj["name"])

        def write(tx: Transaction) -> None:
            current = tx.get(doc.path)
            if current is None or current.data.get("purged"):
                return
            for a in derived:
                tx.delete(a.path)
            sha = current.data.get("sha256")
            content = tx.get(paths.content(tenant_id, env, sha)) if sha else None
            if content is not None and content.data.get("asset_id") == doc.doc_id:
                tx.delete(content.path)
            after = tx.put(doc.path, dict(current.data, purged=True, status="deleted"), expected_rev=current.rev)
            prov = provenance("delete", "system", "media-purge", {"kind": "asset", "id": doc.doc_id},
                              inputs=[ref("asset", doc.doc_id, current.data.get("sha256")),
                                      *(ref("artifact", a.doc_id, a.data.get("sha256")) for a in derived)])
            emit(tx, DomainEvent("media.asset_purged", tenant_id, env, after.path,
                                 {"asset_id": doc.doc_id, "artifacts": len(derived), "provenance": prov}))

        self._store.run_transaction(write)

    # -- artifacts -----------------------------------------------------------
    def artifacts_of(self, ctx: RequestContext, asset_id: str) -> dict[str, Any]:
        doc = self.get_doc(ctx, asset_id)
        owner = doc.data.get("deduplicated_from") or doc.doc_id  # one stored content, one set of artifacts
        page = self._store.query(Query(paths.artifacts(ctx.tenant_id, ctx.env), [Filter("asset_id", "==", owner)],
                                       [("created_at", "asc")], 200))
        return {"artifacts": [artifact_view(a, self._blobs) for a in page.docs]}

    def artifact(self, ctx: RequestContext, artifact_id: str) -> dict[str, Any]:
        if not _ARTIFACT_ID.match(artifact_id):
            raise errors.NotFound("no such artifact")
        doc = self._store.get(paths.artifact(ctx.tenant_id, ctx.env, artifact_id))
        if doc is None:
            raise errors.NotFound("no such artifact")
        parent = self._store.get(paths.asset(ctx.tenant_id, ctx.env, doc.data["asset_id"]))
        if parent is None or parent.data.get("deleted"):
            raise errors.NotFound("no such artifact")
        return artifact_view(doc, self._blobs)

    def register_artifact(self, ctx: RequestContext, asset_id: str, kind: str, object_name: str,
                          params: dict[str, Any], tool: str) -> dict[str, Any]:
        doc = self.get_doc(ctx, asset_id)
        if len(json.dumps(params, allow_nan=False)) > MAX_PARAMS_BYTES:
            raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"params are limited to {MAX_PARAMS_BYTES} bytes of JSON")
        info = self._tenant_object(ctx, object_name)
        data, info = self._blobs.get(paths.UPLOADS_BUCKET, object_name)
        from studio.media.sniff import sniff

        found = sniff(data)
        if found.verdict == "quarantine":
            raise errors.StudioError(errors.VALIDATION_FAILED, f"the object is refused: {found.reason}")
        obj = object_ref(paths.UPLOADS_BUCKET, object_name, info.generation)
        prepared = artifacts.prepare(self._blobs, ctx.tenant_id, ctx.env, doc, kind=kind,
                                     mime=found.mime if found.kind else info.content_type, ext="bin", data=data,
                                     params=params, extra={"tool": tool}, actor=("tool", tool), registered=True,
                                     obj=obj, ar_id="ar_" + secrets.token_hex(10))
        return artifact_view(self._store.run_transaction(lambda tx: artifacts.commit(tx, prepared)), self._blobs)


def _refuse_lying_document(view: dict[str, Any]) -> dict[str, Any]:
    """A synchronous upload whose document lied about its type is answered 415 (the failed asset stays,
    as a record, like a quarantined one)."""
    if view["status"] == "failed" and documents.is_mismatch_reason(view.get("reason")):
        raise errors.StudioError(media_errors.MEDIA_DOCUMENT_TYPE_MISMATCH, view["reason"], asset_id=view["id"])
    return view


def _kind_of(content_type: str | None) -> str | None:
    if documents.is_document_type(content_type):
        return "document"
    major = (content_type or "").split("/", 1)[0]
    return major if major in ("image", "video", "audio") else None


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

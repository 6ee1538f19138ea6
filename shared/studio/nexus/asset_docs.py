"""Documents from media assets: ``POST /nexus/raw {asset_id}`` reads an uploaded document's bytes.

Media sniffed the bytes at upload (kind ``document``: text, Markdown, HTML or PDF, refused when they
lie about their type; studio/media/documents.py). Here the asset is looked up under the caller's
tenant and env only (another tenant's id is simply not found), must be a document whose bytes were
checked, and the bytes read back are hashed again: an upload URL stays valid for an hour, and bytes
put after the check are not the bytes that were checked (docs/decisions/0085-nexus-documents-from-assets.md).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from studio.kernel import errors
from studio.media import documents
from studio.media import paths as media_paths
from studio.media.errors import MEDIA_DOCUMENT_TYPE_MISMATCH, MEDIA_NOT_READY
from studio.nexus.errors import NEXUS_ASSET_NOT_DOCUMENT
from studio.nexus.extract import Format
from studio.ports.blobs import BlobStore
from studio.ports.store import DocumentStore

FORMATS: dict[str, Format] = {"application/pdf": "pdf", "text/plain": "text", "text/markdown": "markdown",
                              "text/html": "html"}
_ASSET_ID = re.compile(r"^as_[0-9a-f]{20}$")


@dataclass(frozen=True)
class AssetDocument:
    asset_id: str
    fmt: Format
    title: str
    sha256: str
    data: bytes = b""

    def source(self) -> dict[str, Any]:
        """What the raw document records of where it came from."""
        return {"kind": "media_asset", "asset_id": self.asset_id, "sha256": self.sha256}


def read_asset_document(store: DocumentStore, blobs: BlobStore, tenant_id: str, env: str,
                        asset_id: str) -> AssetDocument:
    if not _ASSET_ID.match(asset_id):
        raise errors.NotFound("no such asset")
    doc = store.get(media_paths.asset(tenant_id, env, asset_id))
    if doc is None or doc.data.get("deleted"):
        raise errors.NotFound("no such asset")
    d = doc.data
    status, reason = d.get("status"), d.get("reason")
    if status == "failed" and documents.is_mismatch_reason(reason):
        raise errors.StudioError(MEDIA_DOCUMENT_TYPE_MISMATCH, str(reason), asset_id=asset_id)
    if status in ("failed", "quarantined"):
        raise errors.StudioError(NEXUS_ASSET_NOT_DOCUMENT, f"the asset is {status}: {reason}", asset_id=asset_id)
    if not d.get("sha256"):  # uploading, or not yet sniffed: nothing checked to read
        raise errors.StudioError(MEDIA_NOT_READY, "the asset's upload has not been checked yet", asset_id=asset_id)
    fmt = FORMATS.get(str(d.get("sniffed_type")))
    if d.get("kind") != "document" or fmt is None:
        raise errors.StudioError(NEXUS_ASSET_NOT_DOCUMENT, f"the asset is {d.get('sniffed_type')}, not a document "
                                 "(text, Markdown, HTML or PDF)", asset_id=asset_id)
    obj = d["object"]
    try:
        data, _ = blobs.get(obj["bucket"], obj["name"])
    except errors.NotFound:
        raise errors.StudioError(NEXUS_ASSET_NOT_DOCUMENT, "the asset's content is gone", asset_id=asset_id) from None
    if hashlib.sha256(data).hexdigest() != d["sha256"]:
        raise errors.StudioError(NEXUS_ASSET_NOT_DOCUMENT, "the asset's bytes changed after they were checked",
                                 asset_id=asset_id)
    return AssetDocument(asset_id, fmt, str(d.get("title") or d.get("filename") or asset_id)[:200], d["sha256"], data)

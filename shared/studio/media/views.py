"""What the API shows of an asset and an artifact, with short-lived signed download URLs and a
ready-made ``srcset`` per format."""
from __future__ import annotations

from typing import Any

from studio.ports.blobs import BlobStore
from studio.ports.store import Document

DOWNLOAD_EXPIRES_S = 900  # 15 minutes: long enough to render a page, short enough not to be shared
SERVABLE = ("processing", "ready")  # a quarantined or failed upload is never handed out


def _signed(blobs: BlobStore, obj: dict[str, Any] | None) -> str | None:
    if not obj:
        return None
    return blobs.signed_url(obj["bucket"], obj["name"], method="GET", expires_s=DOWNLOAD_EXPIRES_S)


def srcset(blobs: BlobStore, variants: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, list[str]] = {"avif": [], "webp": [], "jpeg": []}
    for v in sorted(variants, key=lambda v: int(v["width"])):
        if v["format"] in out:
            out[v["format"]].append(f"{_signed(blobs, v['object'])} {int(v['width'])}w")
    return {fmt: ", ".join(items) for fmt, items in out.items()}


def asset_view(doc: Document, blobs: BlobStore, content: Document | None = None) -> dict[str, Any]:
    """``content``: the asset holding the bytes when ``doc`` was deduplicated onto it."""
    d = doc.data
    source = content.data if content is not None else d
    status = d["status"]
    if content is not None and status == "ready":
        status = source["status"] if source["status"] in ("processing", "ready", "failed") else "failed"
    variants = source.get("variants") or []
    return {
        "id": doc.doc_id, "kind": source.get("kind") or d.get("kind"), "status": status,
        "reason": d.get("reason") or (source.get("reason") if content is not None else None),
        "filename": d["filename"], "title": d.get("title"), "tags": d.get("tags") or [], "alt_text": d.get("alt_text"),
        "declared_type": d.get("declared_type"), "sniffed_type": d.get("sniffed_type"),
        "type_mismatch": bool(d.get("type_mismatch")), "size_bytes": d.get("size_bytes"), "sha256": d.get("sha256"),
        "deduplicated_from": d.get("deduplicated_from"), "metadata": source.get("metadata") or {},
        "placeholder": source.get("placeholder"),
        "srcset": srcset(blobs, variants) if variants and status == "ready" else None,
        "download_url": _signed(blobs, source.get("object")) if status in SERVABLE and not d.get("deleted") else None,
        "created_by": d["created_by"], "created_at": d["created_at"], "updated_at": doc.update_time,
        "purge_after": d.get("purge_after"), "rev": doc.rev,
    }


def artifact_view(doc: Document, blobs: BlobStore) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "asset_id": d["asset_id"], "kind": d["kind"], "mime": d["mime"], "params": d["params"],
            "sha256": d["sha256"], "size_bytes": d["size_bytes"], "width": d.get("width"), "height": d.get("height"),
            "duration_s": d.get("duration_s"), "data": d.get("data") or {},
            "download_url": _signed(blobs, d.get("object")), "created_at": d["created_at"], "rev": doc.rev}


def object_ref(bucket: str, name: str, generation: int | None = None) -> dict[str, Any]:
    return {"bucket": bucket, "name": name, "generation": generation}


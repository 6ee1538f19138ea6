"""A timeline's clip sources: media assets and artifacts of the tenant, read from the media domain's
documents (what they hold: pictures, sound) and copied to the worker's scratch directory."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from studio.fonts import paths as font_paths
from studio.kernel import errors
from studio.media import paths as media_paths
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, DocumentStore
from studio.video.errors import RENDER_SOURCE_MISSING
from studio.video.plan import Source

_OCTETS = "application/octet-stream"


@dataclass(frozen=True)
class Resolved:
    source: Source
    obj: dict[str, Any]  # {bucket, name}: where its bytes are
    asset: Document | None  # the media asset it is (or derives from): the render artifact's parent; None: a font
    sha256: str | None
    mime: str = _OCTETS


def resolve_all(store: DocumentStore, tenant_id: str, env: str, ids: list[str]) -> dict[str, Resolved]:
    """Every source, or RENDER_SOURCE_MISSING naming the first one that is not a live, ready media file."""
    return {sid: _one(store, tenant_id, env, sid) for sid in ids}


def _one(store: DocumentStore, tenant_id: str, env: str, sid: str) -> Resolved:
    missing = errors.StudioError(RENDER_SOURCE_MISSING, f"{sid} is not a ready media file of this tenant")
    if sid.startswith("fn_"):  # a registered font (text clips)
        font = store.get(font_paths.font(tenant_id, env, sid))
        if font is None:
            raise missing
        return Resolved(Source(sid, False, False), font.data["object"], None, font.data.get("sha256"))
    if sid.startswith("as_"):
        doc = store.get(media_paths.asset(tenant_id, env, sid))
        if doc is None or doc.data.get("deleted") or doc.data.get("status") != "ready" or not doc.data.get("object"):
            raise missing
        md = doc.data.get("metadata") or {}
        kind = doc.data.get("kind")
        src = Source(sid, kind == "video", bool(md.get("audio_codec")), still=kind == "image")  # stills: masks only
        return Resolved(src, doc.data["object"], doc, doc.data.get("sha256"), str(doc.data.get("sniffed_type") or _OCTETS))
    doc = store.get(media_paths.artifact(tenant_id, env, sid))
    if doc is None or not doc.data.get("object"):
        raise missing
    parent = store.get(media_paths.asset(tenant_id, env, doc.data["asset_id"]))
    if parent is None or parent.data.get("deleted"):
        raise missing
    mime = str(doc.data.get("mime") or "")
    parent_md = parent.data.get("metadata") or {}
    # a derived video keeps its parent's sound (the proxy does; a render always has a track)
    has_audio = mime.startswith("audio/") or (mime.startswith("video/") and (
        bool(parent_md.get("audio_codec")) or doc.data.get("kind") == "render"))
    src = Source(sid, mime.startswith("video/"), has_audio, still=mime.startswith("image/"))
    return Resolved(src, doc.data["object"], parent, doc.data.get("sha256"), mime or _OCTETS)


def fetch(blobs: BlobStore, found: dict[str, Resolved], work: str) -> dict[str, str]:
    """Copy each source into ``work``; the plan's placeholders -> those paths."""
    out: dict[str, str] = {}
    for sid, r in found.items():
        data, _ = blobs.get(r.obj["bucket"], r.obj["name"])
        local = os.path.join(work, f"src_{sid}")
        with open(local, "wb") as fh:
            fh.write(data)
        out["{src:" + sid + "}"] = local
        out["{font:" + sid + "}"] = local
    return out

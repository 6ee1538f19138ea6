"""Derived artifacts: stored once (deterministic ids make a redelivered job write nothing new),
linked to their parent asset, each with its ``media.artifact_created`` event and provenance."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.media import paths
from studio.media.provenance_data import provenance, ref
from studio.media.views import object_ref
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, DocumentStore, Transaction


def artifact_id(asset_id: str, kind: str, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps([asset_id, kind, params], sort_keys=True).encode()).hexdigest()
    return "ar_" + digest[:20]


def store_artifact(store: DocumentStore, blobs: BlobStore, tenant_id: str, env: str, asset: Document, *,
                   kind: str, mime: str, ext: str, data: bytes, params: dict[str, Any], width: int | None = None,
                   height: int | None = None, duration_s: float | None = None, extra: dict[str, Any] | None = None,
                   actor: tuple[str, str] = ("tool", "media-optimizer"), action: str = "derive",
                   obj: dict[str, Any] | None = None, ar_id: str | None = None) -> Document:
    """Write the bytes (unless ``obj`` names where they already are), then the document and its event."""
    ar_id = ar_id or artifact_id(asset.doc_id, kind, params)
    path = paths.artifact(tenant_id, env, ar_id)
    existing = store.get(path)
    if existing is not None:
        return existing  # a redelivered job: made before
    sha = hashlib.sha256(data).hexdigest()
    if obj is None:
        name = paths.artifact_object(tenant_id, env, ar_id, ext)
        info = blobs.put(paths.MEDIA_BUCKET, name, data, mime)
        obj = object_ref(paths.MEDIA_BUCKET, name, info.generation)
    doc_data = {"asset_id": asset.doc_id, "kind": kind, "mime": mime, "params": params, "sha256": sha,
                "size_bytes": len(data), "width": width, "height": height, "duration_s": duration_s,
                "data": extra or {}, "object": obj, "created_at": utc_now()}
    actor_type, actor_id = actor

    def write(tx: Transaction) -> Document:
        found = tx.get(path)
        if found is not None:
            return found
        doc = tx.create(path, doc_data)
        prov = provenance(action, actor_type, actor_id, {"kind": "artifact", "id": ar_id},  # type: ignore[arg-type]
                          inputs=[ref("asset", asset.doc_id, asset.data.get("sha256"))],
                          params={"kind": kind, **params}, outputs=[ref("artifact", ar_id, sha)])
        event_type = "media.artifact_created" if action == "derive" else "media.artifact_registered"
        emit(tx, DomainEvent(event_type, tenant_id, env, doc.path,
                             {"asset_id": asset.doc_id, "artifact_id": ar_id, "kind": kind, "sha256": sha,
                              "mime": mime, "provenance": prov}))
        return doc

    return store.run_transaction(write)

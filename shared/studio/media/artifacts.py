"""Derived artifacts: stored once (deterministic ids make a redelivered job write nothing new),
linked to their parent asset, each with its ``media.artifact_created`` event and provenance.

Two steps, so a job's many outputs cost one commit: ``prepare`` writes the bytes (blob store)
and builds the document; ``commit`` creates the documents and their events in the caller's
transaction (skipping any a previous delivery committed)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.media import paths
from studio.media.provenance_data import ActorType, provenance, ref
from studio.media.views import object_ref
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, Transaction


def artifact_id(asset_id: str, kind: str, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps([asset_id, kind, params], sort_keys=True).encode()).hexdigest()
    return "ar_" + digest[:20]


@dataclass(frozen=True)
class Prepared:
    path: str
    data: dict[str, Any]
    event: DomainEvent


def prepare(blobs: BlobStore, tenant_id: str, env: str, asset: Document, *, kind: str, mime: str, ext: str,
            data: bytes, params: dict[str, Any], width: int | None = None, height: int | None = None,
            duration_s: float | None = None, extra: dict[str, Any] | None = None,
            actor: tuple[ActorType, str] = ("tool", "media-optimizer"), registered: bool = False,
            obj: dict[str, Any] | None = None, ar_id: str | None = None) -> Prepared:
    """Write the bytes (unless ``obj`` names where they already are) and build the document."""
    ar_id = ar_id or artifact_id(asset.doc_id, kind, params)
    sha = hashlib.sha256(data).hexdigest()
    if obj is None:
        name = paths.artifact_object(tenant_id, env, ar_id, ext)
        info = blobs.put(paths.MEDIA_BUCKET, name, data, mime)
        obj = object_ref(paths.MEDIA_BUCKET, name, info.generation)
    path = paths.artifact(tenant_id, env, ar_id)
    doc = {"asset_id": asset.doc_id, "kind": kind, "mime": mime, "params": params, "sha256": sha,
           "size_bytes": len(data), "width": width, "height": height, "duration_s": duration_s,
           "data": extra or {}, "object": obj, "created_at": utc_now()}
    actor_type, actor_id = actor
    prov = provenance("register" if registered else "derive", actor_type, actor_id, {"kind": "artifact", "id": ar_id},
                      inputs=[ref("asset", asset.doc_id, asset.data.get("sha256"))],
                      params={"kind": kind, **params}, outputs=[ref("artifact", ar_id, sha)])
    event = DomainEvent("media.artifact_registered" if registered else "media.artifact_created", tenant_id, env, path,
                        {"asset_id": asset.doc_id, "artifact_id": ar_id, "kind": kind, "sha256": sha, "mime": mime,
                         "provenance": prov})
    return Prepared(path, doc, event)


def commit(tx: Transaction, prepared: Prepared) -> Document:
    """Create the document with its event; a document a previous delivery made is kept as it is."""
    found = tx.get(prepared.path)
    if found is not None:
        return found
    doc = tx.create(prepared.path, prepared.data)
    emit(tx, prepared.event)
    return doc

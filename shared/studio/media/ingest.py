"""The finalize side of an upload (F20): an object landed in the uploads bucket; make it an asset.

It records the sha256, the type sniffed from the bytes (a mismatch with the declared type is
recorded, not refused), the size, and what ffprobe / Pillow read (dimensions, duration, codecs,
frame rate, channels, EXIF orientation). Then the asset is deduplicated against the tenant's
contents, or announced (``media.asset_registered``) for the optimiser.

Status moves ``uploading -> processing -> ready`` (the optimiser sets ready) or ``failed`` /
``quarantined`` with a reason. A lease keeps two deliveries from working at once, and a deadline
bounds the whole: a redelivery after the deadline fails the asset with ``timeout``, and reads
show an asset whose deadline passed as failed, so nothing stays ``processing`` forever. A
redelivery of a finished asset changes nothing.
"""
from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from studio.kernel import errors, logs
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta
from studio.media import documents, paths, probe, sniff
from studio.media.provenance_data import provenance, ref
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, DocumentStore, Transaction

_log = logs.get("studio.media.ingest")
LEASE_S = 300  # one delivery's hold on an asset: a crashed worker's asset is taken over after this
DEADLINE_S = 1800  # from the first delivery: past it, the asset fails with "timeout"


def _at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def expired(deadline: str | None) -> bool:
    return bool(deadline) and utc_now() > str(deadline)


# (tenant, env, fields) -> the fields through the tenant's privacy policy (metadata_filter.filtered)
TenantFilter = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class Ingest:
    def __init__(self, store: DocumentStore, blobs: BlobStore, meta_filter: TenantFilter | None = None) -> None:
        self._store = store
        self._blobs = blobs
        self._meta_filter = meta_filter

    def on_finalized(self, bucket: str, name: str, generation: int) -> str:
        """Handle one finalize notification; returns what happened (for logs and tests)."""
        # ``bucket`` is the real bucket on Cloud Storage (the role's name locally): the trigger is
        # bound to the uploads bucket, so the object's name is what says which asset it is.
        parsed = paths.parse_upload_object(name)
        if parsed is None:
            return "ignored"  # not an asset upload (objects registered by JSON, other tools' files)
        tenant_id, env, asset_id = parsed
        return self.ingest(tenant_id, env, asset_id, generation)

    def ingest(self, tenant_id: str, env: str, asset_id: str, generation: int | None = None) -> str:
        path = paths.asset(tenant_id, env, asset_id)
        claimed = self._store.run_transaction(lambda tx: self._claim(tx, tenant_id, env, path))
        if isinstance(claimed, str):
            return claimed
        outcome = self._process(tenant_id, env, claimed)
        if outcome == "deduplicated":
            self._drop_duplicate(path)
        return outcome

    # -- steps -------------------------------------------------------------
    def _claim(self, tx: Transaction, tenant_id: str, env: str, path: str) -> Document | str:
        doc = tx.get(path)
        if doc is None or doc.data.get("deleted"):
            return "unknown"
        d = doc.data
        if d["status"] in ("ready", "failed", "quarantined"):
            return "already-done"
        if d["status"] == "processing" and d.get("sha256"):
            return "already-done"  # ingested; the optimiser has it
        if d["status"] == "processing" and not expired(d.get("lease_until")):
            return "leased"
        if expired(d.get("deadline")):
            self._fail_in(tx, doc, tenant_id, env, "failed", "timeout")
            return "timeout"
        doc = tx.put(path, dict(d, status="processing", lease_until=_at(LEASE_S), deadline=d.get("deadline") or _at(DEADLINE_S),
                                attempts=int(d.get("attempts", 0)) + 1), expected_rev=doc.rev)
        emit_meta(tx, tenant_id, env, "media.progress", {"asset_id": doc.doc_id, "stage": "ingesting"}, doc.path)
        return doc

    def _process(self, tenant_id: str, env: str, doc: Document) -> str:
        obj = doc.data["object"]
        try:
            data, info = self._blobs.get(obj["bucket"], obj["name"])
        except errors.NotFound:
            return self._finish(tenant_id, env, doc.path, "failed", "the uploaded object is gone")
        declared = doc.data.get("declared_size")
        if declared is not None and info.size > int(declared):
            self._blobs.delete(obj["bucket"], obj["name"])
            return self._finish(tenant_id, env, doc.path, "failed", f"larger than declared ({info.size} > {declared} bytes)")
        sha = hashlib.sha256(data).hexdigest()
        declared_type = doc.data.get("declared_type")
        found = sniff.sniff(data, declared_type)
        facts: dict[str, Any] = {"sha256": sha, "size_bytes": info.size, "sniffed_type": found.mime,
                                 "type_mismatch": not sniff.declared_matches(declared_type, found.mime),
                                 "object": dict(obj, generation=info.generation)}
        if found.verdict == "quarantine":
            return self._finish(tenant_id, env, doc.path, "quarantined", found.reason or "quarantined", facts)
        if facts["type_mismatch"] and (found.kind == "document" or documents.is_document_type(declared_type)):
            # lenient for media aliases, strict for documents: Nexus would read a lying file as what it claims
            return self._finish(tenant_id, env, doc.path, "failed",
                                documents.mismatch_reason(declared_type, found.mime), facts)
        if found.verdict == "unsupported" or found.kind is None:
            return self._finish(tenant_id, env, doc.path, "failed", "unsupported", facts)
        if found.kind == "document" and info.size > documents.MAX_DOCUMENT_BYTES:
            return self._finish(tenant_id, env, doc.path, "failed",
                                f"too large: documents are at most {documents.MAX_DOCUMENT_BYTES} bytes", facts)
        facts["kind"] = found.kind
        try:
            facts["metadata"] = self._metadata(tenant_id, env, found.kind, found.mime, data)
        except probe.Unreadable as exc:
            return self._finish(tenant_id, env, doc.path, "failed", str(exc), facts)
        return self._store.run_transaction(lambda tx: self._register(tx, tenant_id, env, doc.path, facts))

    def _metadata(self, tenant_id: str, env: str, kind: str, mime: str, data: bytes) -> dict[str, Any]:
        if kind == "document":
            tenant_filter = self._meta_filter
            return documents.probe_document(mime, data, None if tenant_filter is None else
                                            lambda fields: tenant_filter(tenant_id, env, fields))
        if kind == "image":
            return probe.probe_image(data)
        with tempfile.NamedTemporaryFile(prefix="media-probe-") as fh:
            fh.write(data)
            fh.flush()
            return probe.probe_streams(fh.name)

    def _register(self, tx: Transaction, tenant_id: str, env: str, path: str, facts: dict[str, Any]) -> str:
        doc = tx.get(path)
        if doc is None or doc.data["status"] != "processing" or doc.data.get("sha256"):
            return "already-done"
        content_path = paths.content(tenant_id, env, facts["sha256"])
        content = tx.get(content_path)
        original = tx.get(paths.asset(tenant_id, env, content.data["asset_id"])) if content is not None else None
        data = dict(doc.data, **facts)
        data.pop("lease_until", None)
        dedupe = original is not None and not original.data.get("deleted") and original.doc_id != doc.doc_id
        if dedupe and original is not None:
            # One stored content: this asset points at the original's bytes and artifacts, and
            # its own copy is dropped once this commits (after the commit: never before).
            data.update(status="ready", deduplicated_from=original.doc_id, drop_object=dict(facts["object"]),
                        object=original.data["object"])
        else:
            tx.put(content_path, {"asset_id": doc.doc_id, "created_at": utc_now()})
        after = tx.put(path, data, expected_rev=doc.rev)
        prov = provenance("upload", "user", str(doc.data["created_by"]), {"kind": "asset", "id": doc.doc_id},
                          params={"filename": doc.data["filename"], "declared_type": doc.data.get("declared_type"),
                                  "deduplicated_from": data.get("deduplicated_from")},
                          outputs=[ref("asset", doc.doc_id, facts["sha256"])])
        emit(tx, DomainEvent("media.asset_registered", tenant_id, env, after.path, {
            "asset_id": doc.doc_id, "kind": facts["kind"], "sha256": facts["sha256"], "size_bytes": facts["size_bytes"],
            "sniffed_type": facts["sniffed_type"], "type_mismatch": facts["type_mismatch"],
            "deduplicated_from": data.get("deduplicated_from"), "provenance": prov}))
        emit_meta(tx, tenant_id, env, "media.progress", {"asset_id": doc.doc_id, "stage": "registered",
                                                         "deduplicated": dedupe}, after.path)
        return "deduplicated" if dedupe else "registered"

    def _finish(self, tenant_id: str, env: str, path: str, status: str, reason: str,
                facts: dict[str, Any] | None = None) -> str:
        def write(tx: Transaction) -> str:
            doc = tx.get(path)
            if doc is None or doc.data["status"] in ("ready", "failed", "quarantined"):
                return "already-done"
            if facts:
                doc = tx.put(path, dict(doc.data, **facts), expected_rev=doc.rev)
            self._fail_in(tx, doc, tenant_id, env, status, reason)
            return status

        return self._store.run_transaction(write)

    @staticmethod
    def _fail_in(tx: Transaction, doc: Document, tenant_id: str, env: str, status: str, reason: str) -> None:
        data = dict(doc.data, status=status, reason=reason)
        data.pop("lease_until", None)
        after = tx.put(doc.path, data, expected_rev=doc.rev)
        event = "media.asset_quarantined" if status == "quarantined" else "media.asset_failed"
        emit(tx, DomainEvent(event, tenant_id, env, after.path, {"asset_id": doc.doc_id, "reason": reason,
                                                                  "sha256": data.get("sha256")}))
        emit_meta(tx, tenant_id, env, "media.failed", {"asset_id": doc.doc_id, "status": status, "reason": reason},
                  after.path)

    def _drop_duplicate(self, path: str) -> None:
        """The duplicate's own upload, deleted once the asset points at the original's bytes (a
        redelivery finds it gone: harmless)."""
        doc = self._store.get(path)
        drop = doc.data.get("drop_object") if doc is not None else None
        if drop:
            with contextlib.suppress(errors.NotFound):
                self._blobs.delete(drop["bucket"], drop["name"])

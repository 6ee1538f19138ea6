"""The optimisation worker (F21), on ``media.asset_registered``: images become AVIF/WebP/JPEG
variants and a BlurHash placeholder; video an H.264 720p proxy and a poster; audio a
loudness-normalised track; documents nothing (ready as uploaded). Each output is an artifact
linked to its asset; progress goes out on the tenant's meta channel; the asset is ``ready`` when
all are stored.

A redelivered event re-makes nothing already stored (deterministic artifact ids) and a finished
asset is left alone. A file the tools refuse fails the asset with their reason; an outage
(storage down) raises, so the bus retries.
"""
from __future__ import annotations

import tempfile
import time
from typing import Any

from studio.kernel import errors, logs
from studio.kernel.deps import Deps
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta, publish_meta
from studio.media import artifacts, audio, binaries, images, paths, video
from studio.media.ingest import expired
from studio.media.probe import Unreadable
from studio.ports.blobs import BlobStore
from studio.ports.bus import Bus
from studio.ports.store import Document, DocumentStore, Transaction

_log = logs.get("studio.media.optimise")
C2PA_MODULE = "studio.provenance.c2pa_sign"
PROGRESS_EVERY_S = 0.25  # at most four progress ticks a second per asset (plus the last)  # the provenance domain's signer, used when it is deployed


class Optimiser:
    def __init__(self, deps: Deps, *, c2pa: bool = True) -> None:
        self._c2pa = c2pa  # sign image variants (off: a deployment without content credentials, or a bench)
        self._store: DocumentStore = deps.store
        self._deps = deps  # handed to the C2PA signer (it reads the signing key through the secrets port)

    # Opened on first use (decision 0097): the media function builds its services on any first request.
    @property
    def _blobs(self) -> BlobStore:
        return self._deps.blobs

    @property
    def _bus(self) -> Bus:
        return self._deps.bus

    def handle(self, tenant_id: str, env: str, asset_id: str) -> str:
        doc = self._store.get(paths.asset(tenant_id, env, asset_id))
        if doc is None or doc.data.get("deleted") or doc.data["status"] != "processing" or not doc.data.get("sha256"):
            return "skipped"
        if doc.data.get("deduplicated_from"):
            return "skipped"
        if expired(doc.data.get("deadline")):
            return self._fail(tenant_id, env, doc.path, "timeout")
        obj = doc.data["object"]
        data, _ = self._blobs.get(obj["bucket"], obj["name"])
        try:
            made = self._render(doc, data)
        except (Unreadable, binaries.ToolFailed) as exc:
            return self._fail(tenant_id, env, doc.path, str(exc))
        prepared: list[artifacts.Prepared] = []
        last_tick = 0.0
        for n, out in enumerate(made, 1):
            payload = self._signed(doc, out) if out.mime.startswith("image/") else out.data
            prepared.append(artifacts.prepare(
                self._blobs, tenant_id, env, doc, kind=out.kind, mime=out.mime, ext=out.ext, data=payload,
                params=out.params, width=out.width, height=out.height, extra=out.extra,
                duration_s=doc.data.get("metadata", {}).get("duration_s") if out.kind in ("proxy", "normalized_audio") else None))
            if time.monotonic() - last_tick >= PROGRESS_EVERY_S or n == len(made):  # ticks, not a flood
                last_tick = time.monotonic()
                publish_meta(self._bus, tenant_id, env, "media.progress",
                             {"asset_id": asset_id, "stage": "optimising", "done": n, "total": len(made), "kind": out.kind})
        # Every artifact, its event and the asset's ready state in one commit.
        return self._store.run_transaction(lambda tx: self._ready(tx, tenant_id, env, doc.path, prepared))

    def _render(self, doc: Document, data: bytes) -> list[images.Rendered]:
        kind = doc.data["kind"]
        if kind == "document":
            return []  # its bytes are what Nexus reads: nothing to derive, the asset is ready as it is
        if kind == "image":
            return images.render_variants(data)
        with tempfile.NamedTemporaryFile(prefix="media-src-") as fh:
            fh.write(data)
            fh.flush()
            if kind == "video":
                return video.render_proxy_and_poster(fh.name, doc.data.get("metadata", {}).get("duration_s"))
            return [audio.normalise(fh.name)]

    def _signed(self, doc: Document, out: images.Rendered) -> bytes:
        """The image with a C2PA manifest (created/resized, the parent as ingredient), signed by the
        provenance domain with the deployment's key."""
        if out.kind == "placeholder" or not self._c2pa:
            return out.data
        from studio.provenance.c2pa_sign import sign_image as sign  # c2pa-rs: loaded by the first image job
        actions: list[dict[str, Any]] = [{"action": "c2pa.created"}, {"action": "c2pa.resized" if out.kind == "variant" else "c2pa.transcoded",
                                                 "parameters": out.params}]
        ingredients = [{"sha256": doc.data.get("sha256"), "title": doc.data.get("filename"), "relationship": "parentOf"}]
        try:
            return sign(self._deps, out.data, out.mime, title=doc.data.get("title") or doc.data["filename"],
                        actions=actions, ingredients=ingredients)
        except errors.StudioError as exc:
            if exc.status not in (415, 422):  # an outage (the key, the secrets port): the bus retries the job
                raise
            # A format or file the signer refuses: the variant is still worth serving, unsigned.
            _log.warning("variant left unsigned", extra={"fields": {"asset_id": doc.doc_id, "mime": out.mime,
                                                                     "reason": exc.detail}})
            return out.data

    def _ready(self, tx: Transaction, tenant_id: str, env: str, path: str, prepared: list[artifacts.Prepared]) -> str:
        doc = tx.get(path)
        if doc is None or doc.data["status"] != "processing":
            return "already-done"
        stored = [artifacts.commit(tx, p) for p in prepared]
        variants = [{"id": a.doc_id, "format": a.data["params"]["format"], "width": a.data["params"]["width"],
                     "object": a.data["object"]} for a in stored if a.data["kind"] == "variant"]
        holder = next((a.data["data"].get("blurhash") for a in stored if a.data["kind"] == "placeholder"), None)
        after = tx.put(path, dict(doc.data, status="ready", variants=variants, placeholder=holder,
                                  artifact_ids=[a.doc_id for a in stored]), expected_rev=doc.rev)
        emit(tx, DomainEvent("media.asset_ready", tenant_id, env, after.path,
                             {"asset_id": doc.doc_id, "artifacts": [a.doc_id for a in stored]}))
        emit_meta(tx, tenant_id, env, "media.ready", {"asset_id": doc.doc_id, "artifacts": len(stored),
                                                      "placeholder": holder}, after.path)
        return "ready"

    def _fail(self, tenant_id: str, env: str, path: str, reason: str) -> str:
        def write(tx: Transaction) -> str:
            doc = tx.get(path)
            if doc is None or doc.data["status"] != "processing":
                return "already-done"
            after = tx.put(path, dict(doc.data, status="failed", reason=reason), expected_rev=doc.rev)
            emit(tx, DomainEvent("media.asset_failed", tenant_id, env, after.path,
                                 {"asset_id": doc.doc_id, "reason": reason, "sha256": doc.data.get("sha256")}))
            emit_meta(tx, tenant_id, env, "media.failed", {"asset_id": doc.doc_id, "status": "failed",
                                                           "reason": reason}, after.path)
            return "failed"

        return self._store.run_transaction(write)



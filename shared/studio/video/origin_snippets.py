"""Origin snippets: windows of an audio artifact linked back to the video windows they came from, stored
and recorded in the provenance ledger's lineage (the event's ``provenance`` object; the provenance writer
consumes ``domain.video`` for it)."""
from __future__ import annotations

import secrets
from typing import Any

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.events import DomainEvent, emit
from studio.kernel.paths import tenant_collection
from studio.ports.store import Document, DocumentStore, Filter, Query, Transaction
from studio.video import sources


def _path(ctx: RequestContext, snippet_id: str = "") -> str:
    base = tenant_collection(ctx.tenant_id, ctx.env, "origin_snippets")
    return f"{base}/{snippet_id}" if snippet_id else base


def snippet_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "audio_artifact_id": d["audio_artifact_id"], "windows": d["windows"],
            "created_at": d["created_at"]}


class OriginSnippets:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    def link(self, ctx: RequestContext, audio_artifact_id: str, windows: list[dict[str, Any]]) -> dict[str, Any]:
        ids = sorted({audio_artifact_id} | {w["video_source"] for w in windows})
        found = sources.resolve_all(self._store, ctx.tenant_id, ctx.env, ids)  # RENDER_SOURCE_MISSING otherwise
        if not audio_artifact_id.startswith("ar_") or not found[audio_artifact_id].source.has_audio:
            raise errors.StudioError(errors.VALIDATION_FAILED, "audio_artifact_id is not an artifact with sound")
        for i, w in enumerate(windows):
            if not found[w["video_source"]].source.has_video:
                raise errors.StudioError(errors.VALIDATION_FAILED, f"windows[{i}].video_source has no pictures",
                                         errors=[{"pointer": f"/windows/{i}/video_source", "message": "no video"}])
        snippet_id = "os_" + secrets.token_hex(8)
        path = _path(ctx, snippet_id)
        inputs = [{"kind": "artifact" if s.startswith("ar_") else "asset", "id": s, "sha256": found[s].sha256}
                  for s in sorted({w["video_source"] for w in windows})]
        prov = {"action": "derive", "actor": {"type": "user", "id": ctx.user_id},
                "subject": {"kind": "artifact", "id": audio_artifact_id}, "inputs": inputs,
                "params": {"origin_windows": windows[:20]},
                "outputs": [{"kind": "artifact", "id": audio_artifact_id, "sha256": found[audio_artifact_id].sha256}]}

        def write(tx: Transaction) -> Document:
            doc = tx.create(path, {"audio_artifact_id": audio_artifact_id, "windows": windows,
                                   "created_at": utc_now(), "created_by": ctx.user_id})
            emit(tx, DomainEvent("video.origin_snippets_linked", ctx.tenant_id, ctx.env, path,
                                 {"snippet_id": snippet_id, "audio_artifact_id": audio_artifact_id,
                                  "provenance": prov}))
            return doc

        return snippet_view(self._store.run_transaction(write))

    def of_artifact(self, ctx: RequestContext, artifact_id: str) -> dict[str, Any]:
        page = self._store.query(Query(_path(ctx), [Filter("audio_artifact_id", "==", artifact_id)], limit=100))
        return {"snippets": [snippet_view(d) for d in page.docs]}

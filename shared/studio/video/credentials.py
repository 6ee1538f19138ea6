"""Content credentials on a render's output (decision 0092): a C2PA manifest signed with the deployment's
ES256 chain (the provenance domain's signer, as image variants are signed), naming each clip's source as
an ingredient and the edit as ``c2pa.edited``.

An MP4 carries the manifest inside (c2pa's BMFF hash binding). A WebM cannot (c2pa has no WebM
writer): its manifest is a sidecar store, bound to every byte of the file by a data hash, stored beside it
as ``<object name>.c2pa``; ``GET /provenance/c2pa/{id}`` reads either.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.kernel.deps import Deps
from studio.ports.blobs import BlobStore
from studio.video.sources import Resolved

if TYPE_CHECKING:
    from studio.media.artifacts import Prepared

MAX_INGREDIENTS = 32  # c2pa_sign's bound; a timeline with more sources names them all in the ledger only


@dataclass(frozen=True)
class Signed:
    data: bytes  # the file to store (signed in, or untouched beside a sidecar)
    sidecar: bytes | None  # the manifest store to store beside it, for a format without embedding


@dataclass(frozen=True)
class Ingredient:
    source_id: str
    sha256: str
    mime: str


class RenderCredentials:
    def __init__(self, deps: Deps) -> None:
        self._deps = deps  # the signer reads the chain through the secrets port

    def sign_render(self, data: bytes, mime: str, job: Mapping[str, Any], found: Mapping[str, Resolved]) -> Signed:
        """A render job's output: every clip and mask source with a hash is an ingredient (fonts are not)."""
        ingredients = [Ingredient(sid, r.sha256, r.mime) for sid, r in found.items()
                       if r.sha256 and not sid.startswith("fn_")]
        return self.sign(data, mime, title=f"{job['project_id']}.{mime.split('/')[1]}",
                         params={"project_id": job["project_id"], "project_rev": job["project_rev"]},
                         ingredients=ingredients)

    def sign(self, data: bytes, mime: str, *, title: str, params: dict[str, Any],
             ingredients: list[Ingredient]) -> Signed:
        from studio.provenance.c2pa_sign import embeddable, sign_media  # c2pa-rs: loaded by the first render

        parts = [{"sha256": i.sha256, "title": i.source_id, "relationship": "componentOf", "format": i.mime}
                 for i in sorted({i.sha256: i for i in ingredients}.values(), key=lambda i: i.source_id)]
        actions: list[dict[str, Any]] = [
            {"action": "c2pa.created"},
            *([{"action": "c2pa.placed"}] if parts else []),  # the sources, laid on the timeline
            {"action": "c2pa.edited", "parameters": {"description": "timeline rendered", **params}}]
        inline = embeddable(mime)
        signed = sign_media(self._deps, data, mime, title=title, actions=actions,
                            ingredients=parts[:MAX_INGREDIENTS], sidecar=not inline)
        return Signed(signed, None) if inline else Signed(data, signed)


def attach(blobs: BlobStore, prepared: Prepared, signed: Signed) -> None:
    """Before the artifact commits: its ledger entry names the stored file (so ``GET /provenance/c2pa/{id}``
    finds it), and a sidecar manifest store is written beside the file."""
    obj = prepared.data["object"]
    prepared.event.data["provenance"]["outputs"][0].update(blob=obj["name"], bucket=obj["bucket"],
                                                           mime=prepared.data["mime"])
    if signed.sidecar is not None:
        from studio.provenance.c2pa_sign import SIDECAR_MIME, SIDECAR_SUFFIX

        blobs.put(obj["bucket"], obj["name"] + SIDECAR_SUFFIX, signed.sidecar, SIDECAR_MIME)

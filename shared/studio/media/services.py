"""Builds the media services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.kernel.deps import Deps, Slot
from studio.media.assets import AssetService
from studio.media.ingest import Ingest
from studio.media.metadata_filter import extracted_filter
from studio.media.optimise import Optimiser


@dataclass(frozen=True)
class MediaServices:
    assets: AssetService
    optimiser: Optimiser
    deps: Deps

    @property
    def ingest(self) -> Ingest:
        """Built on first use: it holds the blob store, which listing assets may never open (decision 0097)."""
        return self.deps.memo(INGEST, lambda: Ingest(self.deps.store, self.deps.blobs, extracted_filter(self.deps)))


MEDIA: Slot[MediaServices] = Slot("media")
INGEST: Slot[Ingest] = Slot("media.ingest")


def media_services(deps: Deps) -> MediaServices:
    return deps.memo(MEDIA, lambda: MediaServices(AssetService(deps), Optimiser(deps), deps))

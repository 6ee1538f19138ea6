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
    ingest: Ingest
    optimiser: Optimiser


MEDIA: Slot[MediaServices] = Slot("media")


def media_services(deps: Deps) -> MediaServices:
    return deps.memo(MEDIA, lambda: MediaServices(AssetService(deps), Ingest(deps.store, deps.blobs, extracted_filter(deps)),
                                                  Optimiser(deps)))

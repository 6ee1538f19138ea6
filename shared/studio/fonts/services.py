"""The fonts domain's services, built once per instance from the ports."""
from __future__ import annotations

from dataclasses import dataclass

from studio.fonts.css2 import Css2
from studio.fonts.fonts import FontService
from studio.fonts.presets import PresetService
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class FontsServices:
    fonts: FontService
    css2: Css2
    presets: PresetService


FONTS: Slot[FontsServices] = Slot("fonts")


def fonts_services(deps: Deps) -> FontsServices:
    return deps.memo(FONTS, lambda: FontsServices(FontService(deps.store, deps.blobs),
                                                               Css2(deps.store, deps.blobs), PresetService(deps.store)))

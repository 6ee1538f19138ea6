"""Builds the probes from the settings, once per instance."""
from __future__ import annotations

from studio.kernel.deps import Deps, Slot
from studio.probes.probes import CloudProbes

PROBES: Slot[CloudProbes] = Slot("probes")


def probes_services(deps: Deps) -> CloudProbes:
    # Embedded adapters: the machine runs everything itself (make serve), so there is no cloud to ask.
    return deps.memo(PROBES, lambda: CloudProbes(local=deps.settings.adapters == "embedded"))

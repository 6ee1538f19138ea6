"""Builds BYOK's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.byok.keys import ProviderKeys
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class ByokServices:
    keys: ProviderKeys


BYOK: Slot[ByokServices] = Slot("byok")


def byok_services(deps: Deps) -> ByokServices:
    return deps.memo(BYOK, lambda: ByokServices(ProviderKeys(deps.store, deps.secrets)))

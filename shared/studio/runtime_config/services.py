"""Builds the runtime configuration's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.byok.services import byok_services
from studio.kernel.deps import Deps, Slot
from studio.runtime_config.configs import RuntimeConfigs


@dataclass(frozen=True)
class RuntimeConfigServices:
    configs: RuntimeConfigs  # get / put / resolve_model


RUNTIME_CONFIG: Slot[RuntimeConfigServices] = Slot("runtime_config")


def runtime_config_services(deps: Deps) -> RuntimeConfigServices:
    return deps.memo(RUNTIME_CONFIG, lambda: RuntimeConfigServices(
        RuntimeConfigs(deps.store, byok_services(deps).keys, deps.settings.llm)))

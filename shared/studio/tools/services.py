"""Builds the tools domain's services from the ports, once per instance: the catalog and THE invoker."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.kernel.deps import Deps, Slot
from studio.tools.catalog import ToolCatalog
from studio.tools.ssrf import UrlGuard

if TYPE_CHECKING:
    from studio.tools.invoker import ToolInvoker


@dataclass(frozen=True)
class ToolsServices:
    catalog: ToolCatalog
    deps: Deps

    @property
    def invoker(self) -> ToolInvoker:
        """Built on the first call, not with the catalog: it holds the gates, the policy and the event
        logger (the bus), which listing or describing tools never needs (cold start, decision 0097)."""
        return self.deps.memo(INVOKER, lambda: _invoker(self.deps, self.catalog))


TOOLS: Slot[ToolsServices] = Slot("tools")
INVOKER: Slot[ToolInvoker] = Slot("tools.invoker")


def _invoker(deps: Deps, catalog: ToolCatalog) -> ToolInvoker:
    from studio.events.routes import events_services
    from studio.governance.services import governance_services
    from studio.privacy.services import privacy_services
    from studio.tools.invoker import ToolInvoker

    return ToolInvoker(deps, catalog, governance_services(deps).gates, privacy_services(deps).policy,
                       events_services(deps).logger, deps.store)


def tools_services(deps: Deps) -> ToolsServices:
    def build() -> ToolsServices:
        return ToolsServices(ToolCatalog(deps.store, UrlGuard(deps.settings.tool_url_allow)), deps)

    return deps.memo(TOOLS, build)

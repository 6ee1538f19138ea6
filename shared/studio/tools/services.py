"""Builds the tools domain's services from the ports, once per instance: the catalog and THE invoker."""
from __future__ import annotations

from dataclasses import dataclass

from studio.events.routes import events_services
from studio.governance.services import governance_services
from studio.kernel.deps import Deps, Slot
from studio.privacy.services import privacy_services
from studio.tools.catalog import ToolCatalog
from studio.tools.invoker import ToolInvoker
from studio.tools.ssrf import UrlGuard


@dataclass(frozen=True)
class ToolsServices:
    catalog: ToolCatalog
    invoker: ToolInvoker


TOOLS: Slot[ToolsServices] = Slot("tools")


def tools_services(deps: Deps) -> ToolsServices:
    def build() -> ToolsServices:
        catalog = ToolCatalog(deps.store, UrlGuard(deps.settings.tool_url_allow))
        invoker = ToolInvoker(deps, catalog, governance_services(deps).gates, privacy_services(deps).policy,
                              events_services(deps).logger, deps.store)
        return ToolsServices(catalog, invoker)

    return deps.memo(TOOLS, build)

"""The analytics domain's services, built once per instance from the ports."""
from __future__ import annotations

from dataclasses import dataclass

from studio.analytics.ingest import IngestService
from studio.analytics.personalization import RuleService
from studio.analytics.seo import SeoService
from studio.analytics.signals import SignalService
from studio.analytics.sites import SiteService
from studio.kernel.deps import Deps, Slot
from studio.privacy.services import privacy_services


@dataclass(frozen=True)
class AnalyticsServices:
    sites: SiteService
    ingest: IngestService
    signals: SignalService
    rules: RuleService
    seo: SeoService


ANALYTICS: Slot[AnalyticsServices] = Slot("analytics")


def analytics_services(deps: Deps) -> AnalyticsServices:
    def build() -> AnalyticsServices:
        sites = SiteService(deps.store)
        signals = SignalService(deps.store)
        return AnalyticsServices(sites, IngestService(sites, deps.bus, privacy_services(deps).policy), signals, RuleService(deps.store, signals),
                                 SeoService(deps.store))

    return deps.memo(ANALYTICS, build)

"""The public browser ingest routes (the audit's /analytics/events/* paths, plus web vitals and batches).

No token: each route admits an ``analytics.ingest`` site key (kernel/site_keys.py), sent as ``?key=``
(or ``write_key`` in a batch body); the kernel checks it, its site's origin allow-list (for the CORS
preflight too) and its per-key rate limit through the rule's hooks below. ``/analytics/batch`` also takes
``text/plain`` bodies: ``navigator.sendBeacon`` sends a string as text/plain, which keeps it a CORS
simple request (no preflight) while the page unloads.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.analytics.errors import WRITE_KEY_INVALID
from studio.analytics.services import analytics_services
from studio.analytics.sites import SCOPE
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import models
from studio.kernel.routing import Router
from studio.kernel.site_keys import KeyPlace, OriginRule, SiteKeyGrant, SiteKeyRule

if TYPE_CHECKING:
    from studio.analytics import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.analytics.models")


def _site_origins(deps: Any, grant: SiteKeyGrant) -> OriginRule:
    site = analytics_services(deps).ingest.site_of(grant)
    return OriginRule(site.origins, site.allow_no_origin)


def _site_rate(deps: Any, grant: SiteKeyGrant) -> int:
    return analytics_services(deps).ingest.site_of(grant).rate_limit_per_minute


WRITE_KEY = SiteKeyRule(SCOPE, KeyPlace.QUERY, invalid=WRITE_KEY_INVALID, origins=_site_origins,
                        rate_per_minute=_site_rate)
BATCH_KEY = SiteKeyRule(SCOPE, KeyPlace.QUERY, body_field="write_key", invalid=WRITE_KEY_INVALID,
                        origins=_site_origins, rate_per_minute=_site_rate)

ingest = Router("analytics")


def _ingest(call: Call, events: list[Any]) -> Reply:
    result = analytics_services(call.deps).ingest.ingest(call.need_site_key(), call.request.headers.get("User-Agent"),
                                                         events)
    return Reply(result, status=202)


@ingest.site_key("POST", "/analytics/events/pageview", rule=WRITE_KEY,
                 body=m.PageviewIn, query=m.IngestQuery, response=m.IngestOut,
               status=202)
def pageview(call: Call) -> Any:
    """Record a page view."""
    return _ingest(call, [call.body])


@ingest.site_key("POST", "/analytics/events/cta-click", rule=WRITE_KEY,
                 body=m.CtaClickIn, query=m.IngestQuery, response=m.IngestOut,
               status=202)
def cta_click(call: Call) -> Any:
    """Record a click on a call to action."""
    return _ingest(call, [call.body])


@ingest.site_key("POST", "/analytics/events/web-vitals", rule=WRITE_KEY,
                 body=m.WebVitalsIn, query=m.IngestQuery,
               response=m.IngestOut, status=202)
def web_vitals(call: Call) -> Any:
    """Record one Core Web Vitals metric (LCP, INP, CLS, TTFB, FCP) with its attribution."""
    return _ingest(call, [call.body])


@ingest.site_key("POST", "/analytics/batch", rule=BATCH_KEY,
                 body=m.BatchIn, query=m.IngestQuery, response=m.IngestOut, status=202,
               body_media_types=("application/json", "text/plain"))
def batch(call: Call) -> Any:
    """Record up to 100 events at once; takes navigator.sendBeacon's text/plain bodies."""
    return _ingest(call, list(call.body.events))

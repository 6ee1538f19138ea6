"""The public browser ingest routes (the audit's /analytics/events/* paths, plus web vitals and batches).

Public: no token. The site's write key (``?key=``, or ``write_key`` in a batch body) names the site;
the site's origin allow-list answers the CORS preflight (``Route.origins``) and the real request.
``/analytics/batch`` also takes ``text/plain`` bodies: ``navigator.sendBeacon`` sends a string as
text/plain, which keeps it a CORS simple request (no preflight) while the page unloads.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from studio.analytics.services import analytics_services
from studio.kernel.call import Call, Reply
from studio.kernel.deps import Deps
from studio.kernel.model_refs import models
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.analytics import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.analytics.models")

ingest = Router("analytics")


def _site_origins(deps: Deps, request: Request) -> tuple[str, ...] | None:
    return analytics_services(deps).ingest.origins_for(request.args.get("key"))


def _ingest(call: Call, events: list[Any], key: str | None) -> Reply:
    result = analytics_services(call.deps).ingest.ingest(
        key, call.request.headers.get("Origin"), call.request.headers.get("User-Agent"), events)
    return Reply(result, status=202)


@ingest.public("POST", "/analytics/events/pageview", body=m.PageviewIn, query=m.IngestQuery, response=m.IngestOut,
               status=202, origins=_site_origins)
def pageview(call: Call) -> Any:
    """Record a page view."""
    return _ingest(call, [call.body], call.query.key)


@ingest.public("POST", "/analytics/events/cta-click", body=m.CtaClickIn, query=m.IngestQuery, response=m.IngestOut,
               status=202, origins=_site_origins)
def cta_click(call: Call) -> Any:
    """Record a click on a call to action."""
    return _ingest(call, [call.body], call.query.key)


@ingest.public("POST", "/analytics/events/web-vitals", body=m.WebVitalsIn, query=m.IngestQuery,
               response=m.IngestOut, status=202, origins=_site_origins)
def web_vitals(call: Call) -> Any:
    """Record one Core Web Vitals metric (LCP, INP, CLS, TTFB, FCP) with its attribution."""
    return _ingest(call, [call.body], call.query.key)


@ingest.public("POST", "/analytics/batch", body=m.BatchIn, query=m.IngestQuery, response=m.IngestOut, status=202,
               origins=_site_origins, body_media_types=("application/json", "text/plain"))
def batch(call: Call) -> Any:
    """Record up to 100 events at once; takes navigator.sendBeacon's text/plain bodies."""
    return _ingest(call, list(call.body.events), call.query.key or call.body.write_key)

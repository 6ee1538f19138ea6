"""The journey analyzer (/journeys) and the SEO page configs (/seo/pages)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.analytics.funnels import run_funnel
from studio.analytics.paths_analysis import run_paths
from studio.analytics.services import analytics_services
from studio.analytics.site_graph import analyse
from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.analytics import journey_models as jm
    from studio.analytics import seo_models as sm
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    jm = models("studio.analytics.journey_models")
    sm = models("studio.analytics.seo_models")

journeys = Router("journeys")
seo = Router("seo")


@journeys.tenant("POST", "/journeys/funnels", role=Role.VIEWER, body=jm.FunnelIn, response=jm.FunnelOut)
def funnel(call: Call) -> Any:
    """Users per step, conversion, drop-off and the median time to convert, optionally split by a field."""
    ctx, b = call.need_ctx(), call.body
    return run_funnel(call.deps.analytics, ctx.tenant_id, ctx.env, [s.model_dump() for s in b.steps], b.window,
                      b.group_by, b.site_id, b.since, b.until)


@journeys.tenant("GET", "/journeys/paths", role=Role.VIEWER, query=jm.PathsQuery, response=jm.PathsOut)
def paths(call: Call) -> Any:
    """The most common next and previous pages of a page (?from=), with a Sankey of them."""
    ctx, q = call.need_ctx(), call.query
    return run_paths(call.deps.analytics, ctx.tenant_id, ctx.env, q.from_, q.site_id, q.limit, q.since, q.until)


@journeys.tenant("GET", "/journeys/site-graph", role=Role.VIEWER, query=jm.SiteGraphQuery, response=jm.SiteGraphOut)
def site_graph(call: Call) -> Any:
    """The static site graph of the SEO page configs: orphans, dead ends, unreachable pages, broken CTAs."""
    pages = analytics_services(call.deps).seo.list_pages(call.need_ctx(), call.query.surface)["pages"]
    return analyse(pages, call.query.max_clicks)


@seo.tenant("GET", "/seo/pages", role=Role.VIEWER, query=sm.SeoListQuery, response=sm.SeoPageList)
def list_pages(call: Call) -> Any:
    """The SEO page configs (?surface= for one surface)."""
    return analytics_services(call.deps).seo.list_pages(call.need_ctx(), call.query.surface)


def _put_rev(call: Call) -> int | None:
    return analytics_services(call.deps).seo.current_rev(call.need_ctx(), call.body.surface, call.body.page_type)


@seo.tenant("PUT", "/seo/pages", role=Role.MEMBER, body=sm.SeoPagePut, response=sm.SeoPageOut, revisioned=True,
            current_rev=_put_rev)
def put_page(call: Call) -> Any:
    """Save a page config named in the body (base_rev 0 creates it); needs If-Match or base_rev."""
    b = call.body
    return analytics_services(call.deps).seo.put(call.need_ctx(), b.surface, b.page_type,
                                                 b.model_dump(mode="json"), call.expected_rev())


@seo.tenant("GET", "/seo/pages/{surface}/{page_type}", role=Role.VIEWER, response=sm.SeoPageOut)
def get_page(call: Call) -> Any:
    """One page config."""
    return analytics_services(call.deps).seo.get(call.need_ctx(), call.params["surface"], call.params["page_type"])


def _page_rev(call: Call) -> int | None:
    return analytics_services(call.deps).seo.current_rev(call.need_ctx(), call.params["surface"],
                                                         call.params["page_type"])


@seo.tenant("PUT", "/seo/pages/{surface}/{page_type}", role=Role.MEMBER, body=sm.SeoPageConfig,
            response=sm.SeoPageOut, revisioned=True, current_rev=_page_rev)
def put_page_at(call: Call) -> Any:
    """Save the page config at this surface and page type (base_rev 0 creates it)."""
    return analytics_services(call.deps).seo.put(call.need_ctx(), call.params["surface"], call.params["page_type"],
                                                 call.body.model_dump(mode="json"), call.expected_rev())

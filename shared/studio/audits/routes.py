"""HTTP routes of the audits domain: audit jobs, static layout validation, the EAA pack."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from studio.audits import layout_checks
from studio.audits.services import audits_services
from studio.kernel import errors
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import models
from studio.kernel.query_spec import QuerySpec, Text, page
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.audits import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.audits.models")

# restates m.AuditListQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
AUDITS = QuerySpec(m.AuditListQuery, {
    "site_id": Text(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=64), **page(100, default=20)})

audits = Router("audits")


@audits.tenant("POST", "/audits", role=Role.MEMBER, body=m.AuditIn, response=m.AuditOut, status=202)
def request_audit(call: Call) -> Any:
    """Queue an audit of a URL or of submitted HTML; progress arrives on the meta channel."""
    body = call.body.model_dump(mode="json")
    job = audits_services(call.deps).jobs.request(call.need_ctx(), body)
    return Reply(job, status=202, headers={"Location": f"/audits/{job['id']}"})


@audits.tenant("GET", "/audits", role=Role.VIEWER, query=AUDITS, response=m.AuditList)
def list_audits(call: Call) -> Any:
    """The tenant's audits, newest first; ?site_id= gives one site's history."""
    q = call.query
    return audits_services(call.deps).jobs.list_audits(call.need_ctx(), q.site_id, q.limit, q.page_token)


@audits.tenant("GET", "/audits/field-vitals", role=Role.VIEWER, query=m.FieldQuery, response=m.FieldVitals)
def field_vitals(call: Call) -> Any:
    """Field p75 LCP, INP and CLS per route and per experiment variation, from web-vitals analytics."""
    return audits_services(call.deps).jobs.field(call.need_ctx(), call.query.site_id, call.query.days)


@audits.tenant("GET", "/audits/{audit_id}", role=Role.VIEWER, response=m.AuditOut)
def get_audit(call: Call) -> Any:
    """One audit: status, progress, and its findings once done."""
    return audits_services(call.deps).jobs.get(call.need_ctx(), call.params["audit_id"])


@audits.tenant("GET", "/audits/{audit_id}/screenshots/{breakpoint}", role=Role.VIEWER, response=m.ScreenshotOut)
def get_screenshot(call: Call) -> Any:
    """The page as rendered at one breakpoint (JPEG, as a data URL)."""
    bp = call.params["breakpoint"]
    if not (bp.isascii() and bp.isdigit()) or len(bp) > 5:  # "²".isdigit() is True: ASCII digits only
        raise errors.NotFound("no screenshot of this audit at that breakpoint")
    return audits_services(call.deps).jobs.screenshot(call.need_ctx(), call.params["audit_id"], int(bp))


@audits.tenant("POST", "/layouts/validate", role=Role.VIEWER, body=m.LayoutGraph, response=m.LayoutReport)
def validate_layout(call: Call) -> Any:
    """Check a layout graph (boxes per breakpoint) statically: the rendered-page checks, without a browser."""
    started = time.perf_counter()
    bps, nodes = layout_checks.parse_graph(call.body.model_dump(mode="json"))
    found = layout_checks.check_layout(bps, nodes)
    counts: dict[str, int] = {}
    for f in found:
        counts[f["check"]] = counts.get(f["check"], 0) + 1
    return Reply({"breakpoints": list(bps), "nodes": len(nodes), "findings": found, "counts": counts},
                 headers={"Server-Timing": f"checks;dur={(time.perf_counter() - started) * 1000:.2f}"})


def _site_rev(call: Call) -> int | None:
    return audits_services(call.deps).eaa.current_rev(call.need_ctx(), call.params["site_id"])


@audits.tenant("GET", "/compliance/eaa/{site_id}", role=Role.VIEWER, response=m.EaaPack)
def eaa_pack(call: Call) -> Any:
    """The site's EAA pack: clause-9 report, manual checklist, Annex V information, statement, history."""
    _site_id(call)
    return audits_services(call.deps).eaa.pack(call.need_ctx(), call.params["site_id"])


@audits.tenant("GET", "/compliance/eaa/{site_id}/site", role=Role.VIEWER, response=m.EaaSiteOut)
def eaa_site(call: Call) -> Any:
    """The site's service information and checklist verdicts (rev 0 until first written)."""
    _site_id(call)
    return audits_services(call.deps).eaa.site(call.need_ctx(), call.params["site_id"])


@audits.tenant("PATCH", "/compliance/eaa/{site_id}/site", role=Role.MEMBER, body=m.EaaSitePatch,
               response=m.EaaSiteOut, revisioned=True, current_rev=_site_rev)
def patch_eaa_site(call: Call) -> Any:
    """Record service information and checklist verdicts (who and when); If-Match or base_rev (0 creates)."""
    _site_id(call)
    body = call.body
    return audits_services(call.deps).eaa.patch_site(
        call.need_ctx(), call.params["site_id"], None if body.service is None else body.service.model_dump(),
        [e.model_dump() for e in body.checklist], call.expected_rev())


def _site_id(call: Call) -> None:
    site_id = call.params["site_id"]
    if not (0 < len(site_id) <= 64 and site_id.replace("-", "").replace("_", "").isalnum() and site_id.isascii()):
        raise errors.NotFound("no such site")


ROUTERS = (audits,)

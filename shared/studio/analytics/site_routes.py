"""Sites and their write keys: /sites (admins manage them; members read)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.analytics.services import analytics_services
from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.analytics import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.analytics.models")

sites = Router("sites")


@sites.tenant("GET", "/sites", role=Role.VIEWER, response=m.SiteList)
def list_sites(call: Call) -> Any:
    """The tenant's sites."""
    return analytics_services(call.deps).sites.list_sites(call.need_ctx())


@sites.tenant("POST", "/sites", role=Role.ADMIN, body=m.SiteIn, response=m.SiteOut, status=201)
def create_site(call: Call) -> Any:
    """Register a site that sends analytics events, with its origin allow-list."""
    b = call.body
    return analytics_services(call.deps).sites.create(call.need_ctx(), b.name, b.origins, b.allow_no_origin,
                                                      b.rate_limit_per_minute)


@sites.tenant("GET", "/sites/{site_id}", role=Role.VIEWER, response=m.SiteOut)
def get_site(call: Call) -> Any:
    """One site."""
    return analytics_services(call.deps).sites.get(call.need_ctx(), call.params["site_id"])


def _site_rev(call: Call) -> int | None:
    return analytics_services(call.deps).sites.current_rev(call.need_ctx(), call.params["site_id"])


@sites.tenant("PATCH", "/sites/{site_id}", role=Role.ADMIN, body=m.SitePatch, response=m.SiteOut,
              revisioned=True, current_rev=_site_rev)
def edit_site(call: Call) -> Any:
    """Rename a site or change its origins or rate limit; needs If-Match or base_rev."""
    changes = call.body.model_dump(exclude_none=True, exclude={"base_rev"})
    return analytics_services(call.deps).sites.edit(call.need_ctx(), call.params["site_id"], changes,
                                                    call.expected_rev())


@sites.tenant("GET", "/sites/{site_id}/keys", role=Role.ADMIN, response=m.KeyList)
def list_keys(call: Call) -> Any:
    """The site's write keys (their prefixes; a whole key is shown once, when created)."""
    return analytics_services(call.deps).sites.list_keys(call.need_ctx(), call.params["site_id"])


@sites.tenant("POST", "/sites/{site_id}/keys", role=Role.ADMIN, response=m.KeyOut, status=201, idempotent=False)
def create_key(call: Call) -> Any:
    """Create a write key for the site's pages (shown whole in this answer only)."""
    return analytics_services(call.deps).sites.create_key(call.need_ctx(), call.params["site_id"])


@sites.tenant("DELETE", "/sites/{site_id}/keys/{key_id}", role=Role.ADMIN, response=m.KeyOut)
def revoke_key(call: Call) -> Any:
    """Revoke a write key: events sent with it are refused within seconds."""
    return analytics_services(call.deps).sites.revoke_key(call.need_ctx(), call.params["site_id"],
                                                          call.params["key_id"])

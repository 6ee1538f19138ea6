"""HTTP routes of BYOK keys: /tenants/{tenant_id}/keys (owners and admins). Served by the identity
function, which answers /tenants (decision 0041)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.byok.services import byok_services
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.byok import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.byok.models")

keys = Router("byok")


@keys.tenant("GET", "/tenants/{tenant_id}/keys", role=Role.ADMIN, response=m.KeyList)
def list_keys(call: Call) -> Any:
    """The tenant's provider keys: last four characters and fingerprint, never the key."""
    return byok_services(call.deps).keys.list_keys(call.need_ctx().tenant_id)


def key_rev(call: Call) -> int | None:
    """0 when there is no key yet: adding one states base_rev 0 (If-Match: "0"). An unknown provider is 404
    before any precondition is judged."""
    provider = _provider(call)
    return byok_services(call.deps).keys.current_rev(call.need_ctx().tenant_id, provider)


def existing_key_rev(call: Call) -> int | None:
    rev = key_rev(call)
    return rev or None  # None: no such key (404)


@keys.tenant("PUT", "/tenants/{tenant_id}/keys/{provider}", role=Role.ADMIN, body=m.KeyIn, response=m.KeyOut,
             revisioned=True, current_rev=key_rev)
def put_key(call: Call) -> Any:
    """Add (base_rev 0) or rotate (the current rev) the tenant's key for a provider (openai, gemini)."""
    provider = _provider(call)
    return byok_services(call.deps).keys.put(call.need_ctx(), provider, call.body.key.get_secret_value(),
                                             call.expected_rev())


@keys.tenant("DELETE", "/tenants/{tenant_id}/keys/{provider}", role=Role.ADMIN, query=RevisionQuery, status=204,
             revisioned=True, current_rev=existing_key_rev)
def delete_key(call: Call) -> Any:
    """Delete the tenant's key for a provider: the record and every version of the secret."""
    byok_services(call.deps).keys.delete(call.need_ctx(), _provider(call),
                                         call.expected_rev())
    return Reply(None, status=204)


ROUTERS = (keys,)


def _provider(call: Call) -> str:
    from studio.byok.models import provider_param  # its module is pydantic's: loaded on first use

    return provider_param(call.params["provider"])

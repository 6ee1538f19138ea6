"""HTTP routes of the privacy domain: the tenant's policy (/privacy/policy) and what a text would trigger
(/privacy/scan). Served by the dataset_events function, beside /privacy/training-prefs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.privacy.entities import PiiType
from studio.privacy.policies import Action
from studio.privacy.services import privacy_services

if TYPE_CHECKING:
    from studio.privacy import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.privacy.models")

policy = Router("privacy")


@policy.tenant("GET", "/privacy/policy", role=Role.VIEWER, response=m.PolicyOut)
def get_policy(call: Call) -> Any:
    """The tenant's policy: allow, redact or block per entity type (rev 0 and all allowed until set)."""
    ctx = call.need_ctx()
    return privacy_services(call.deps).policies.get(ctx.tenant_id, ctx.env).view()


def policy_rev(call: Call) -> int | None:
    """A never-set policy reads as rev 0, so the first write states base_rev 0 like any other."""
    ctx = call.need_ctx()
    return privacy_services(call.deps).policies.get(ctx.tenant_id, ctx.env).rev


@policy.tenant("PUT", "/privacy/policy", role=Role.ADMIN, body=m.PolicyIn, response=m.PolicyOut,
               revisioned=True, current_rev=policy_rev)
def put_policy(call: Call) -> Any:
    """Replace the tenant's policy; needs If-Match or base_rev (0 for the first write)."""
    actions = {PiiType(name): Action(action) for name, action in call.body.actions.items()}
    return privacy_services(call.deps).policies.put(call.need_ctx(), actions, call.expected_rev()).view()


@policy.tenant("POST", "/privacy/scan", role=Role.MEMBER, body=m.ScanIn, response=m.ScanOut)
def scan(call: Call) -> Any:
    """What a text would trigger under the tenant's policy: entity type, span and action, and whether it
    would be blocked. The text is never echoed back, redacted or not: a scan must not become a way to
    read a secret through a response (or a log of one)."""
    ctx = call.need_ctx()
    findings = privacy_services(call.deps).policy.scan(ctx.tenant_id, ctx.env, call.body.text)
    return {"findings": [f.view() for f in findings], "blocked": any(f.action is Action.BLOCK for f in findings)}


ROUTERS = (policy,)

"""HTTP routes of the cloud probes (owners and admins): /debug/cloud-identity, /debug/cloud-billing-probe,
and the audit's /debug/aws-identity, /debug/aws-billing-probe in the same shapes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.probes.services import probes_services as probes

if TYPE_CHECKING:
    from studio.probes import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.probes.models")

debug = Router("probes")


@debug.tenant("GET", "/debug/cloud-identity", role=Role.ADMIN, response=m.IdentityProbe)
def cloud_identity(call: Call) -> Any:
    """Who the runtime runs as on Google Cloud (service account), "local" on make serve; ok false with why."""
    return probes(call.deps).gcp_identity()


@debug.tenant("GET", "/debug/cloud-billing-probe", role=Role.ADMIN, response=m.BillingProbe)
def cloud_billing(call: Call) -> Any:
    """Whether the project's billing info is reachable (Cloud Billing API); ok false with why."""
    return probes(call.deps).gcp_billing()


@debug.tenant("GET", "/debug/aws-identity", role=Role.ADMIN, response=m.IdentityProbe)
def aws_identity(call: Call) -> Any:
    """The audit's AWS identity probe, in the same shape (provider aws)."""
    return probes(call.deps).aws_identity()


@debug.tenant("GET", "/debug/aws-billing-probe", role=Role.ADMIN, response=m.BillingProbe)
def aws_billing(call: Call) -> Any:
    """The audit's AWS billing probe, in the same shape (provider aws)."""
    return probes(call.deps).aws_billing()


ROUTERS = (debug,)

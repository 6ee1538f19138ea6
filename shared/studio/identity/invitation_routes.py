"""HTTP routes for invitations: admins invite an address to their tenant; the invitee, signed in
with that address verified, lists and accepts (``/auth/invitations``: no tenant yet)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.identity.services import identity_services
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.identity import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.identity.models")

invitations = Router("tenants")
my_invitations = Router("auth")


@invitations.tenant("POST", "/tenants/{tenant_id}/invitations", role=Role.ADMIN, body=m.InvitationIn,
                    response=m.InvitationOut, status=201)
def create_invitation(call: Call) -> Any:
    """Invite an address with a role; it joins when its owner accepts with the address verified."""
    return identity_services(call.deps).invitations.create(call.need_ctx(), call.body.email, call.body.role)


@invitations.tenant("GET", "/tenants/{tenant_id}/invitations", role=Role.ADMIN, response=m.InvitationList)
def list_invitations(call: Call) -> Any:
    """The tenant's invitations, whatever their status."""
    return {"invitations": identity_services(call.deps).invitations.list_for_tenant(call.need_ctx().tenant_id)}


@invitations.tenant("DELETE", "/tenants/{tenant_id}/invitations/{invitation_id}", role=Role.ADMIN, status=204)
def revoke_invitation(call: Call) -> Any:
    """Revoke a pending invitation."""
    identity_services(call.deps).invitations.revoke(call.need_ctx(), call.params["invitation_id"])
    return Reply(None, status=204)


@my_invitations.user("GET", "/auth/invitations", response=m.InvitationsForMe)
def my_pending_invitations(call: Call) -> Any:
    """Pending invitations to the caller's verified address (empty while it is unverified)."""
    return {"invitations": identity_services(call.deps).invitations.list_for_invitee(call.need_principal())}


@my_invitations.user("POST", "/auth/invitations/{invitation_id}/accept", response=m.MemberOut, status=201)
def accept_invitation(call: Call) -> Any:
    """Join the tenant with the invited role; needs the invited address, verified."""
    return identity_services(call.deps).invitations.accept(call.need_principal(), call.params["invitation_id"])

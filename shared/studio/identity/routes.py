"""HTTP routes of the identity function: /auth/*, /tenants/*, /.well-known/jwks.json."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.identity.credential_routes import client_ip, credentials
from studio.identity.invitation_routes import invitations, my_invitations
from studio.identity.services import identity_services
from studio.kernel import errors
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.roles import Role
from studio.kernel.routing import Router

if TYPE_CHECKING:
    from studio.identity import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.identity.models")

auth = Router("auth")
tenants = Router("tenants")


@auth.public("POST", "/auth/signup", body=m.SignupIn, response=m.SignupOut, status=201)
def signup(call: Call) -> Any:
    """Create an account (email + password); a verification code is mailed to the address."""
    b: m.SignupIn = call.body
    return identity_services(call.deps).accounts.signup(b.email, b.password, b.display_name)


@auth.public("POST", "/auth/login", body=m.LoginIn, response=m.TokenOut, idempotent=False)
def login(call: Call) -> Any:
    """Exchange email + password for an access and a refresh token (failures are throttled)."""
    return identity_services(call.deps).accounts.login(call.body.email, call.body.password, client_ip(call))


@auth.public("POST", "/auth/refresh", body=m.RefreshIn, response=m.TokenOut, idempotent=False)
def refresh(call: Call) -> Any:
    """Rotate a refresh token; a reused one revokes its whole session."""
    return identity_services(call.deps).accounts.refresh(call.body.refresh_token)


@auth.user("POST", "/auth/logout", status=204, idempotent=False)
def logout(call: Call) -> Any:
    """End the caller's session: its refresh and access tokens stop working."""
    identity_services(call.deps).accounts.logout(call.need_principal())
    return Reply(None, status=204)


@auth.user("GET", "/auth/me", response=m.MeOut)
def me(call: Call) -> Any:
    """The caller and their tenant memberships."""
    return identity_services(call.deps).accounts.me(call.need_principal())


@auth.user("POST", "/auth/bootstrap", body=m.BootstrapIn, response=m.BootstrapOut, status=201)
def bootstrap(call: Call) -> Any:
    """Create a tenant with the caller as its owner."""
    env = call.request.headers.get("X-Env", "dev")
    tenant_id = identity_services(call.deps).tenants.bootstrap(call.need_principal(), call.body.tenant_name,
                                                              env if env in ("dev", "staging", "prod") else "dev")
    return {"tenant_id": tenant_id, "role": "owner"}


@auth.public("GET", "/.well-known/jwks.json", response=m.Jwks)
def jwks(call: Call) -> Any:
    """Public keys of the built-in issuer (rotating; old keys stay until retired)."""
    return Reply(identity_services(call.deps).keyring.public_jwks(), headers={"Cache-Control": "public, max-age=300"})


@tenants.tenant("GET", "/tenants/{tenant_id}", role=Role.VIEWER, response=m.TenantOut)
def get_tenant(call: Call) -> Any:
    """Read the tenant (ETag carries its rev)."""
    return identity_services(call.deps).tenants.get(call.need_ctx().tenant_id)


def tenant_rev(call: Call) -> int | None:
    return identity_services(call.deps).tenants.current_rev(call.need_ctx().tenant_id)


def member_rev(call: Call) -> int | None:
    return identity_services(call.deps).memberships.current_rev(call.need_ctx().tenant_id, call.params["user_id"])


@tenants.tenant("PATCH", "/tenants/{tenant_id}", role=Role.ADMIN, body=m.TenantPatch, response=m.TenantOut,
                revisioned=True, current_rev=tenant_rev)
def patch_tenant(call: Call) -> Any:
    """Rename the tenant; needs If-Match or base_rev."""
    view, _ = identity_services(call.deps).tenants.rename(call.need_ctx(), call.body.name, call.expected_rev())
    return view


@tenants.tenant("GET", "/tenants/{tenant_id}/members", role=Role.VIEWER, response=m.MemberList)
def list_members(call: Call) -> Any:
    """Members of the tenant and their roles."""
    return {"members": identity_services(call.deps).memberships.list_members(call.need_ctx().tenant_id)}


@tenants.tenant("PATCH", "/tenants/{tenant_id}/members/{user_id}", role=Role.ADMIN, body=m.MemberPatch,
                response=m.MemberOut, revisioned=True, current_rev=member_rev)
def patch_member(call: Call) -> Any:
    """Change a member's role; the last owner cannot be demoted."""
    view, _ = identity_services(call.deps).memberships.set_role(call.need_ctx(), call.params["user_id"],
                                                               call.body.role, call.expected_rev())
    return view


def leaving_or_admin_member_rev(call: Call) -> int | None:
    """The member's revision, for the member leaving or an admin (anyone else: 403 before any 412)."""
    ctx = call.need_ctx()
    if call.params["user_id"] != ctx.user_id and not (ctx.role and ctx.role.at_least(Role.ADMIN)):
        raise errors.StudioError(errors.ROLE_INSUFFICIENT, "removing another member needs admin")
    return member_rev(call)


@tenants.tenant("DELETE", "/tenants/{tenant_id}/members/{user_id}", role=Role.VIEWER, query=RevisionQuery,
                status=204, revisioned=True, current_rev=leaving_or_admin_member_rev)
def delete_member(call: Call) -> Any:
    """Remove a member (admins), or leave (anyone); needs If-Match or ?base_rev=. The last owner stays."""
    identity_services(call.deps).memberships.remove(call.need_ctx(), call.params["user_id"], call.expected_rev())
    return Reply(None, status=204)


ROUTERS = (auth, credentials, tenants, invitations, my_invitations)

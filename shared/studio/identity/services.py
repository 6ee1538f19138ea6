"""Builds the identity domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.identity import repos
from studio.identity.accounts import AccountService
from studio.identity.credentials import CredentialService
from studio.identity.invitations import InvitationService
from studio.identity.local_tokens import LocalTokenIssuer
from studio.identity.login_throttle import LoginThrottle, ThrottleLimits
from studio.identity.memberships import MembershipRepo
from studio.identity.signing_keys import KeyRing
from studio.identity.tenants import TenantService
from studio.identity.verification import EmailVerification
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class IdentityServices:
    accounts: AccountService
    credentials: CredentialService
    verification: EmailVerification
    invitations: InvitationService
    tenants: TenantService
    memberships: MembershipRepo
    keyring: KeyRing


IDENTITY: Slot[IdentityServices] = Slot("identity")


def identity_services(deps: Deps) -> IdentityServices:
    def build() -> IdentityServices:
        s = deps.settings
        keyring, sessions, memberships = repos.keyring(deps), repos.sessions(deps), repos.memberships(deps)
        issuer = LocalTokenIssuer(keyring, issuer=s.public_url, ttl_s=s.access_token_ttl_s)
        throttle = LoginThrottle(deps.store, ThrottleLimits(s.login_max_failures_per_account,
                                                            s.login_max_failures_per_ip, s.login_failure_window_s))
        verification = EmailVerification(deps.store, deps.mailer)
        return IdentityServices(
            accounts=AccountService(deps.store, sessions, issuer, memberships, verification, throttle, deps.mailer),
            credentials=CredentialService(deps.store, sessions, throttle, deps.mailer),
            verification=verification,
            invitations=InvitationService(deps.store, deps.mailer),
            tenants=TenantService(deps.store),
            memberships=memberships,
            keyring=keyring,
        )

    return deps.memo(IDENTITY, build)

"""Builds the identity domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.identity.accounts import AccountService
from studio.identity.local_tokens import LocalTokenIssuer
from studio.identity.memberships import MembershipRepo
from studio.identity.signing_keys import KeyRing
from studio.identity.tenants import TenantService


@dataclass(frozen=True)
class IdentityServices:
    accounts: AccountService
    tenants: TenantService
    memberships: MembershipRepo
    keyring: KeyRing


def identity_services(deps: Any) -> IdentityServices:
    def build() -> IdentityServices:
        issuer = LocalTokenIssuer(deps.keyring, issuer=deps.settings.public_url, ttl_s=deps.settings.access_token_ttl_s)
        return IdentityServices(
            accounts=AccountService(deps.store, deps.sessions, issuer, deps.memberships),
            tenants=TenantService(deps.store),
            memberships=deps.memberships,
            keyring=deps.keyring,
        )

    return deps.memo("identity", build)  # type: ignore[no-any-return]

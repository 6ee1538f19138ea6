"""The identity objects one instance shares between the kernel and the identity domain: the signing
key ring (which the token verifier reads too), the membership and the session repositories (the
kernel reads roles and open sessions through them on every request). Built once per instance, under
the instance's memo: the bootstrap's ``keyring``, ``memberships`` and ``sessions`` are these."""
from __future__ import annotations

from studio.identity.memberships import MembershipRepo
from studio.identity.sessions import SessionRepo
from studio.identity.signing_keys import KeyRing
from studio.kernel.deps import Deps, Slot

KEYRING: Slot[KeyRing] = Slot("identity.keyring")
MEMBERSHIPS: Slot[MembershipRepo] = Slot("identity.memberships")
SESSIONS: Slot[SessionRepo] = Slot("identity.sessions")


def keyring(deps: Deps) -> KeyRing:
    return deps.memo(KEYRING, lambda: KeyRing(deps.store, lambda: deps.secrets,
                                              max_age_s=deps.settings.signing_key_max_age_s))


def memberships(deps: Deps) -> MembershipRepo:
    return deps.memo(MEMBERSHIPS, lambda: MembershipRepo(deps.store))


def sessions(deps: Deps) -> SessionRepo:
    s = deps.settings
    return deps.memo(SESSIONS, lambda: SessionRepo(deps.store, refresh_ttl_s=s.refresh_token_ttl_s,
                                                   reuse_grace_s=s.refresh_reuse_grace_s))

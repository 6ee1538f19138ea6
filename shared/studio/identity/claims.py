"""The ``tenants`` custom claim, kept equal to a user's memberships by the ``identity_claims`` function.

Every membership change emits a ``member.*`` event on ``domain.member`` (tenant creation too: its
creator's ``member.added``). For each, the function recomputes the user's WHOLE claim from the
membership documents and writes it through the ``CustomClaims`` port. It never applies the event
as a delta, so a redelivered, duplicated or reordered event is harmless: whatever arrives, the
current truth is written.

One race remains with concurrent deliveries for the same user: handler A reads {t1, t2}, t2's
removal commits, handler B reads {t1} and writes it, then A writes its stale {t1, t2}, which would
keep granting t2 through the rules. So after writing, the handler reads the memberships again and
writes again while they differ from what it wrote. The last write is then always followed by a read
that matched it, and a change after that read has its own event, handled after it: the claim
settles on the truth. (A tenant missing from the claim is only a cost: the rules read the membership
document. A tenant the user has left must not stay: this loop is for that.)

Priority when the claim cannot hold every tenant (``ports.claims.fit_tenants`` keeps a prefix):
higher roles first (owners and admins manage, and use, their tenants most), then by tenant id so
the choice does not churn from one recomputation to the next.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studio.identity.memberships import MembershipRepo
from studio.kernel import cloudevents, errors, logs
from studio.kernel.roles import Role
from studio.ports.claims import CustomClaims

CONSUMER = "identity_claims"
MEMBER_CHANGES = frozenset({"member.added", "member.role_changed", "member.removed"})
MAX_PASSES = 5  # write-and-recheck rounds before the delivery fails and is retried later

_log = logs.get("studio.identity.claims")


def tenants_claim(memberships: list[dict[str, str]]) -> dict[str, str]:
    """{tenant_id: role}, highest role first, then by tenant id: the order the budget cuts in."""
    ranked = sorted(memberships, key=lambda m: (-_rank(m["role"]), m["tenant_id"]))
    return {m["tenant_id"]: m["role"] for m in ranked}


def _rank(role: str) -> int:
    try:
        return Role(role).rank
    except ValueError:  # a role this code does not know yet: after every known one
        return -1


class TenantsClaimSync:
    def __init__(self, memberships: MembershipRepo, claims: CustomClaims) -> None:
        self._memberships = memberships
        self._claims = claims

    def truth(self, user_id: str) -> dict[str, str]:
        return tenants_claim(self._memberships.of_user(user_id))

    def sync(self, user_id: str) -> dict[str, str] | None:
        """Write the user's claim from their memberships; returns what the claim now holds."""
        wanted = self.truth(user_id)
        for _ in range(MAX_PASSES):
            written = self._claims.set_tenants(user_id, wanted or None)
            now = self.truth(user_id)
            if now == wanted:
                _log.info("tenants claim written", extra={"fields": {
                    "user_id": user_id, "tenants": len(wanted), "in_claim": len(written or {})}})
                return written
            wanted = now  # changed while we wrote: write the newer truth
        raise errors.Unavailable(f"memberships of {user_id} kept changing; the delivery is retried")

    def handle(self, cloud_event: Any) -> dict[str, str] | None:
        """One ``domain.member`` delivery. Other member events (invitations) change no membership."""
        event = cloudevents.decode_pubsub(cloud_event).json()
        if not isinstance(event, Mapping) or event.get("type") not in MEMBER_CHANGES:
            return None
        data = event.get("data")
        user_id = data.get("user_id") if isinstance(data, Mapping) else None
        if not isinstance(user_id, str) or not user_id:
            # Raised, not dropped: the bus retries and then dead-letters it for someone to look at.
            raise errors.StudioError(errors.BAD_REQUEST, f"{event.get('type')} event without a user_id")
        return self.sync(user_id)


def claims_sync_for(deps: Any) -> TenantsClaimSync:
    """The instance's sync (what the ``identity_claims`` entrypoint calls)."""
    return deps.memo(CONSUMER, lambda: TenantsClaimSync(deps.memberships, deps.claims))  # type: ignore[no-any-return]

"""Custom claims port: the ``tenants`` claim a user's ID tokens carry, {tenant_id: role}.

Firestore's security rules (infra/firestore.rules) check a client's tenant membership with this claim
first, for free, and fall back to the membership document (one billed read) for a tenant the claim
does not hold. The claim is therefore a cache that may hold fewer tenants than the truth, never more:
Firebase caps ALL of a user's custom claims together at 1,000 bytes of JSON (a few dozen tenants).

Adapters are chosen in ``bootstrap`` by ``settings.auth``: Firebase (Identity Toolkit) for Firebase ID
tokens, or the store for the built-in issuer. Both keep the other custom claims a user may have and
apply the same budget through ``fit_tenants``, so a local run shows what a deployment would write.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

TENANTS_CLAIM = "tenants"  # the name infra/firestore.rules reads: request.auth.token.tenants
CLAIMS_BUDGET_BYTES = 1000  # Firebase: the serialized custom claims of one user, all of them together


class CustomClaims(Protocol):
    def set_tenants(self, user_id: str, tenants: Mapping[str, str] | None) -> dict[str, str] | None:
        """Make the user's ``tenants`` claim hold ``tenants``, taken in their order (highest priority
        first) as far as they fit in the budget beside the user's other claims, which are kept as
        they are. ``None``, an empty mapping or nothing fitting removes the claim. Returns what the
        claim now holds (None: no claim, or no such account). Idempotent: the same call twice writes
        once. Raises ``errors.Unavailable`` when the provider cannot be reached (the caller retries)."""
        ...


def serialized(claims: Mapping[str, Any]) -> str:
    """Custom claims as sent to and measured by Firebase: compact JSON."""
    return json.dumps(claims, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def claims_size(claims: Mapping[str, Any]) -> int:
    """Bytes of the serialized claims (UTF-8: never less than Firebase's count of characters)."""
    return len(serialized(claims).encode())


def fit_tenants(others: Mapping[str, Any], tenants: Mapping[str, str] | None,
                budget: int = CLAIMS_BUDGET_BYTES) -> tuple[dict[str, Any], dict[str, str] | None]:
    """The user's whole custom claims with the longest prefix of ``tenants`` that keeps them within
    ``budget``, and that prefix (None when empty: the claim is left out rather than written as {}).

    A prefix, not a best packing: a tenant is never in the claim while one ranked above it is not,
    so the choice is stable and explainable (identity.claims ranks owners and admins first).
    """
    base = {name: value for name, value in others.items() if name != TENANTS_CLAIM}
    kept: dict[str, str] = {}
    for tenant_id, role in (tenants or {}).items():
        trial = {**kept, tenant_id: role}
        if claims_size({**base, TENANTS_CLAIM: trial}) > budget:
            break
        kept = trial
    if not kept:
        return base, None
    return {**base, TENANTS_CLAIM: kept}, kept

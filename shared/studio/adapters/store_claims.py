"""Custom claims for the built-in issuer (STUDIO_AUTH=local): kept in the document store.

Without Firebase there are no Firebase ID tokens and no Firestore rules to read a claim, so nothing
needs it today. It is still stored, rather than dropped, for two reasons: a local run (and its
tests) exercises the very path a deployment takes, from the membership event to the written claim,
under the same 1,000-byte budget; and a developer can see at ``custom_claims/{user_id}`` what a
user's Firebase claim would be. The built-in issuer could put it in its tokens later without a new
writer. Other claims in the document are kept, as Firebase keeps a user's other custom attributes.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studio.kernel.clock import utc_now
from studio.ports.claims import CLAIMS_BUDGET_BYTES, fit_tenants
from studio.ports.store import DocumentStore, Transaction

COLLECTION = "custom_claims"


def claims_path(user_id: str) -> str:
    return f"{COLLECTION}/{user_id}"


class StoreCustomClaims:
    def __init__(self, store: DocumentStore, *, budget: int = CLAIMS_BUDGET_BYTES) -> None:
        self._store = store
        self._budget = budget

    def claims_of(self, user_id: str) -> dict[str, Any]:
        doc = self._store.get(claims_path(user_id))
        return dict(doc.data["claims"]) if doc is not None else {}

    def set_tenants(self, user_id: str, tenants: Mapping[str, str] | None) -> dict[str, str] | None:
        def write(tx: Transaction) -> dict[str, str] | None:
            doc = tx.get(claims_path(user_id))
            current: dict[str, Any] = dict(doc.data["claims"]) if doc is not None else {}
            claims, kept = fit_tenants(current, tenants, self._budget)
            if doc is None and not claims:
                return None
            if doc is None or claims != current:  # unchanged: no write, as with Firebase
                tx.put(claims_path(user_id), {"user_id": user_id, "claims": claims, "updated_at": utc_now()})
            return kept

        return self._store.run_transaction(write)

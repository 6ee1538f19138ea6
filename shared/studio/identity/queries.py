"""The store queries identity's code makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

QUERIES = (
    StoreQuery("identity/memberships.py:of_user", Query("users/u_1/memberships", limit=500)),
    StoreQuery("identity/memberships.py:list_members", Query("tenants/t_abc/members", limit=500)),
    StoreQuery("identity/memberships.py:keep_an_owner",
               Query("tenants/t_abc/members", [Filter("role", "==", "owner")], limit=2)),
    StoreQuery("identity/sessions.py:revoke_all",
               Query("sessions", [Filter("user_id", "==", "u_1"), Filter("revoked", "==", False)], limit=200)),
    StoreQuery("identity/invitations.py:create",
               Query("tenants/t_abc/invitations", [Filter("email_key", "==", "k"), Filter("status", "==", "pending")],
                     limit=10)),
    StoreQuery("identity/invitations.py:list_for_tenant", Query("tenants/t_abc/invitations", limit=500)),
    StoreQuery("identity/invitations.py:list_for_invitee", Query("invitees/k/invitations", limit=100)),
)

"""Every store query governance makes, with sample values (the shape decides the index)."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_T = "tenants/t_abc/envs/dev"
QUERIES = (
    StoreQuery("governance/kill_switches.py:_active",
               Query(f"{_T}/gov_kill_switches", [Filter("active", "==", True)], limit=500)),
    StoreQuery("governance/kill_switches.py:list_switches", Query(f"{_T}/gov_kill_switches", limit=500)),
    StoreQuery("governance/kill_switches.py:list_switches.platform",
               Query("platform/governance/kill_switches", [Filter("active", "==", True)], limit=500)),
    StoreQuery("governance/locks.py:list_locks", Query(f"{_T}/gov_locks", limit=500)),
    StoreQuery("governance/licences.py:_held", Query(f"{_T}/gov_licences", [
        Filter("subject_type", "==", "agent"), Filter("subject_id", "==", "muse")], limit=200)),
    StoreQuery("governance/licences.py:list_licences", Query(f"{_T}/gov_licences", limit=500)),
    StoreQuery("governance/corridors.py:list_corridors", Query(f"{_T}/gov_corridors", limit=500)),
    StoreQuery("governance/budgets.py:_covering", Query(f"{_T}/gov_budgets", limit=100)),
    StoreQuery("governance/budgets.py:list_budgets", Query(f"{_T}/gov_budgets", limit=100)),
    StoreQuery("governance/budgets.py:usage", Query(f"{_T}/gov_usage", order_by=[("at", "desc")], limit=50)),
    StoreQuery("governance/budgets.py:summary", Query(f"{_T}/gov_usage", [Filter("at", ">=", "2026-01-01T00:00:00Z")],
                                                       [("at", "desc")], limit=500)),
    StoreQuery("governance/three_wise.py:list_questions",
               Query(f"{_T}/gov_questions", [Filter("status", "==", "open")], [("created_at", "desc")], 50)),
    StoreQuery("governance/three_wise.py:list_questions",
               Query(f"{_T}/gov_questions", order_by=[("created_at", "desc")], limit=50)),
)

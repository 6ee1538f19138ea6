"""The store queries the provenance code makes (sample values; the shape decides the index).

The entries listing filters on any mix of subject, action and actor, with or without a time range,
always newest first by time: every combination is its own index shape, so every one is listed.
"""
from __future__ import annotations

from itertools import combinations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_ENTRIES = "tenants/t_abc/envs/dev/provenance_entries"
_RANGE = [Filter("time", ">=", "2026-01-01T00:00:00Z"), Filter("time", "<", "2027")]
_EQUAL = ("subject_id", "action", "actor_id")

QUERIES = (
    *(StoreQuery("provenance/entries.py:list_entries",
                 Query(_ENTRIES, [Filter(f, "==", "x") for f in equal] + time_range, [("time", "desc")], 50))
      for n in range(len(_EQUAL) + 1) for equal in combinations(_EQUAL, n) for time_range in ([], _RANGE)),
    StoreQuery("provenance/verify.py:verify_chain", Query(_ENTRIES, order_by=[("seq", "asc")], limit=500)),
    StoreQuery("provenance/lineage.py:_step", Query(_ENTRIES, [Filter("input_ids", "array_contains", "as_1")], limit=200)),
    StoreQuery("provenance/c2pa_report.py:_output_ref",
               Query(_ENTRIES, [Filter("product_ids", "array_contains", "ar_1")], limit=100)),
)

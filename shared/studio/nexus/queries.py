"""Every store query Nexus builds (sample values; the shape decides the index)."""
from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_T = "tenants/t_abc/envs/dev"

QUERIES = (
    StoreQuery("nexus/cards.py:list_cards", Query(f"{_T}/nexus_cards", [Filter("tags", "array_contains", "brand")],
                                                  [("created_at", "desc")], 50)),
    StoreQuery("nexus/raw_docs.py:list_docs", Query(f"{_T}/nexus_raw", [], [("created_at", "desc")], 50)),
    StoreQuery("nexus/raw_docs.py:delete", Query(f"{_T}/nexus_cards", [Filter("source_doc_id", "==", "nd_1")], limit=201)),
    StoreQuery("nexus/ingest.py:write", Query(f"{_T}/nexus_cards", [Filter("source_doc_id", "==", "nd_1")], limit=201)),
    StoreQuery("nexus/keyword.py:_index", Query(f"{_T}/nexus_cards", limit=500)),
    StoreQuery("nexus/reembed.py:run", Query(f"{_T}/nexus_cards", limit=500)),
    StoreQuery("nexus/runs.py:list_runs", Query(f"{_T}/nexus_runs", [Filter("kind", "==", "ingest")],
                                                [("created_at", "desc")], 50)),
    StoreQuery("nexus/memory.py:session", Query(f"{_T}/memory_sessions/th_1/snippets", [], [("at", "desc")], 50)),
    StoreQuery("nexus/memory.py:recent_text", Query(f"{_T}/memory_sessions/th_1/snippets", [], [("at", "desc")], 3)),
    StoreQuery("nexus/memory.py:boards", Query(f"{_T}/blackboards", [], [("updated_at", "desc")], 50)),
    StoreQuery("nexus/explorer.py:scene", Query(f"{_T}/nexus_cards", [], [("created_at", "desc")], 500)),
)

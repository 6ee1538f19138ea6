"""The store queries chat's code makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_MESSAGES = "tenants/t_abc/envs/dev/threads/th_1/messages"

QUERIES = (
    StoreQuery("chat/threads.py:list_threads",
               Query("tenants/t_abc/envs/dev/threads", [Filter("deleted", "==", False)], [("created_at", "desc")], 50)),
    StoreQuery("chat/messages.py:list_messages", Query(_MESSAGES, [Filter("seq", ">", 0)], [("seq", "asc")], 50)),
    StoreQuery("chat/messages.py:chunks",
               Query("tenants/t_abc/envs/dev/threads/th_1/messages/000000000001/chunks", [], [("n", "asc")], 10_000)),
)

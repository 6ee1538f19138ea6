"""The store queries the realtime gateway makes (sample values; the shape decides the index).

``studio.domains`` lists them; tests/unit/test_firestore_indexes.py checks each has its index.
"""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Filter, Query

_MESSAGES = "tenants/t_abc/envs/dev/threads/th_1/messages"

QUERIES = (
    StoreQuery("realtime/events.py:load_chunks",
               Query("tenants/t_abc/envs/dev/threads/th_1/messages/000000000001/chunks", [Filter("n", ">", 0)], [("n", "asc")], 500)),
    StoreQuery("realtime/events.py:backfill", Query(_MESSAGES, [Filter("seq", ">", 0)], [("seq", "asc")], 500)),
    StoreQuery("realtime/gateway_state.py:live_floor",
               Query(_MESSAGES, [Filter("status", "==", "streaming")], [("seq", "asc")], 1)),
    StoreQuery("realtime/broker_feed.py:_start_cursor",
               Query(_MESSAGES, [Filter("status", "==", "streaming")], [("seq", "asc")], 100)),
)

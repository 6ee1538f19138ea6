"""The store queries the experiments domain makes (sample values; the shape decides the index)."""
from __future__ import annotations

from studio.kernel.store_queries import StoreQuery
from studio.ports.store import Query

_ENV = "tenants/t_abc/envs/dev"

QUERIES = (
    StoreQuery("experiments/definitions.py:list_experiments",
               Query(f"{_ENV}/experiments", [], [("created_at", "desc")], 50)),
    StoreQuery("experiments/flags.py:list_flags", Query(f"{_ENV}/flags", [], [("created_at", "desc")], 50)),
    StoreQuery("experiments/ofrep.py:evaluate_all", Query(f"{_ENV}/flags", limit=500)),
    StoreQuery("experiments/sdk_keys.py:create", Query(f"{_ENV}/sdk_keys", limit=100)),
    StoreQuery("experiments/sdk_keys.py:list_keys", Query(f"{_ENV}/sdk_keys", limit=100)),
)

"""Where the ledger lives: one chain per tenant and env.

* ``.../provenance/head``: the chain's head (``seq``, ``hash``), read and written by every append in
  the same transaction: the one document that serialises appends, so the chain cannot fork;
* ``.../provenance_entries/{seq:012d}``: the entries, ids in chain order.
"""
from __future__ import annotations

from studio.kernel.paths import tenant_collection

ENTRIES = "provenance_entries"


def head(tenant_id: str, env: str) -> str:
    return f"{tenant_collection(tenant_id, env, 'provenance')}/head"


def entries(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, ENTRIES)


def entry(tenant_id: str, env: str, seq: int) -> str:
    return f"{entries(tenant_id, env)}/{seq:012d}"

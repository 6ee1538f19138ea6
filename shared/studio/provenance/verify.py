"""Verifying a tenant's chain: recompute every entry's hash in seq order and name the first that fails.

An entry fails when it is missing (a seq gap), its ``prev_hash`` is not the previous entry's hash,
its hash is not ``sha256(prev_hash + JCS(entry))``, its derived query fields disagree with its body,
or its document id is not its seq. Past the last entry, the head must name the last seq and hash:
a head ahead of the entries means entries were cut from the end.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.kernel import errors, logs
from studio.ports.store import Document, DocumentStore, Query, iter_all
from studio.provenance import paths
from studio.provenance.chain_hash import GENESIS, entry_body, entry_hash
from studio.provenance.ledger import index_fields

PAGE = 500
PROGRESS_EVERY = 5_000  # entries between progress reports of a long verification
_log = logs.get("studio.provenance.verify")


def _fault(doc: Document, expected_seq: int, prev_hash: str) -> str | None:
    data = doc.data
    if data.get("seq") != expected_seq:
        return "seq_gap"
    if doc.doc_id != f"{expected_seq:012d}":
        return "misplaced"
    if data.get("prev_hash") != prev_hash:
        return "prev_hash_mismatch"
    body = entry_body(data)
    try:
        if entry_hash(prev_hash, body) != data.get("hash"):
            return "hash_mismatch"
        if {k: data.get(k) for k in ("subject_id", "actor_id", "input_ids", "product_ids")} != index_fields(body):
            return "index_mismatch"
    except (errors.StudioError, KeyError, TypeError, AttributeError):
        return "malformed"
    return None


def verify_chain(store: DocumentStore, tenant_id: str, env: str,
                 progress: Callable[[int], None] | None = None, every: int = PROGRESS_EVERY) -> dict[str, Any]:
    """``{ok, length, head, first_bad, reason}``: ``length`` counts the entries that verified.
    ``progress(n)`` is called each time ``every`` more entries have verified."""
    prev_hash, length = GENESIS, 0
    query = Query(paths.entries(tenant_id, env), order_by=[("seq", "asc")], limit=PAGE)
    for doc in iter_all(store, query):
        reason = _fault(doc, length + 1, prev_hash)
        if reason is not None:
            _log.warning("provenance chain fails", extra={"fields": {
                "tenant_id": tenant_id, "env": env, "seq": length + 1, "reason": reason}})
            return {"ok": False, "length": length, "head": prev_hash if length else None,
                    "first_bad": length + 1, "reason": reason}
        prev_hash, length = str(doc.data["hash"]), length + 1
        if progress is not None and length % every == 0:
            progress(length)
    head = store.get(paths.head(tenant_id, env))
    head_seq = int(head.data.get("seq", -1)) if head else 0
    head_hash = str(head.data.get("hash")) if head else GENESIS
    if head_seq != length or head_hash != prev_hash:
        return {"ok": False, "length": length, "head": prev_hash if length else None,
                "first_bad": length + 1, "reason": "head_mismatch"}
    return {"ok": True, "length": length, "head": prev_hash if length else None, "first_bad": None, "reason": None}

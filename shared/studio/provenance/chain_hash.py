"""The ledger's hash rule: ``hash = sha256(prev_hash + JCS(entry))``, hex, where JCS is RFC 8785
canonical JSON of the entry's own fields (everything but ``hash``). The genesis ``prev_hash`` is 64
zeros. Canonical JSON makes the hash independent of key order and number spelling, so any store that
round-trips JSON values (SQLite, Firestore) reproduces it, and anyone can recompute it with any
RFC 8785 implementation (decision 0047)."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from studio.kernel import errors
from studio.provenance.errors import PROVENANCE_UNCANONICAL

GENESIS = "0" * 64
# The fields an entry's hash covers, in no particular order (JCS sorts them).
ENTRY_FIELDS = ("seq", "time", "action", "actor", "subject", "inputs", "params", "outputs", "source_event_id",
                "prev_hash")


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``; a value JCS refuses (an integer beyond 2^53, NaN) is a 422."""
    import rfc8785

    try:
        return bytes(rfc8785.dumps(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise errors.StudioError(PROVENANCE_UNCANONICAL, f"not canonicalisable ({type(exc).__name__})") from exc


def entry_body(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed part of a stored entry (derived index fields and ``hash`` left out)."""
    return {name: doc.get(name) for name in ENTRY_FIELDS}


def entry_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(dict(body))).hexdigest()

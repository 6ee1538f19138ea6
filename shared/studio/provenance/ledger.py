"""The ledger's write side: append one entry to the tenant's chain, in the caller's transaction.

An append reads the head (``paths.head``), creates entry ``seq = head.seq + 1`` with
``prev_hash = head.hash``, writes the head forward and emits ``provenance.entry_appended``, all in one
transaction. Two appends that read the same head both try to create the same entry and write the
same head: the store lets one commit, and the other re-runs on the new head (SQLite serialises
writers; Firestore's optimistic transaction sees the head changed). So concurrent appends leave one
chain, never a fork (tests/integration/test_provenance_concurrency.py, on both stores).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.events import DomainEvent, emit
from studio.kernel.meta import emit_meta
from studio.ports.store import DocumentStore, Transaction
from studio.provenance import paths
from studio.provenance.chain_hash import GENESIS, entry_body, entry_hash

if TYPE_CHECKING:  # imported where a record is checked: reading the ledger needs no pydantic (decision 0097)
    from studio.provenance.models import ProvenanceRecord

EVENT_APPENDED = "provenance.entry_appended"
META_APPENDED = "provenance.appended"
LINEAGE_KINDS = ("asset", "artifact")  # the graph's nodes; other kinds (a prompt, a model) stay data


def index_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Fields derived from an entry for the store's queries (filters, lineage). Not hashed, but
    verify checks they agree with the hashed body, so editing them is caught as tampering too."""
    products = body["outputs"] or [body["subject"]]
    return {"subject_id": body["subject"]["id"], "actor_id": body["actor"]["id"],
            "input_ids": sorted({ref["id"] for ref in body["inputs"]}),
            "product_ids": sorted({ref["id"] for ref in products})}


def append_in(tx: Transaction, tenant_id: str, env: str, record: ProvenanceRecord,
              *, source_event_id: str | None = None) -> dict[str, Any]:
    """Append ``record`` inside ``tx``: call it before the transaction's first write (Firestore
    reads must precede writes). Returns the stored entry (with its ``hash``)."""
    head = tx.get(paths.head(tenant_id, env))
    seq = (int(head.data["seq"]) if head else 0) + 1
    prev_hash = str(head.data["hash"]) if head else GENESIS
    body = entry_body({
        "seq": seq, "time": utc_now(), "action": record.action,
        "actor": record.actor.model_dump(), "subject": record.subject.model_dump(),
        "inputs": [ref.stored() for ref in record.inputs], "params": record.params,
        "outputs": [ref.stored() for ref in record.outputs],
        "source_event_id": source_event_id, "prev_hash": prev_hash,
    })
    digest = entry_hash(prev_hash, body)
    path = paths.entry(tenant_id, env, seq)
    tx.create(path, {**body, **index_fields(body), "hash": digest})
    tx.put(paths.head(tenant_id, env), {"seq": seq, "hash": digest, "time": body["time"]})
    summary = {"seq": seq, "hash": digest, "action": record.action, "subject": body["subject"]}
    emit(tx, DomainEvent(EVENT_APPENDED, tenant_id, env, path, summary))
    # Live clients (a console showing an asset's chain) hear of it on the tenant's meta channel.
    emit_meta(tx, tenant_id, env, META_APPENDED, summary, subject=paths.head(tenant_id, env))
    return {**body, "hash": digest}


def as_record(record: ProvenanceRecord | Mapping[str, Any]) -> ProvenanceRecord:
    """A record from the event convention's plain dict (what producers that do not import this domain
    build); a malformed one is a VALIDATION_FAILED error naming its fields."""
    from pydantic import ValidationError

    from studio.provenance.models import ProvenanceRecord

    if isinstance(record, ProvenanceRecord):
        return record

    try:
        return ProvenanceRecord.model_validate(dict(record))
    except ValidationError as exc:
        items = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                 for e in exc.errors(include_url=False, include_context=False, include_input=False)]
        raise errors.StudioError(errors.VALIDATION_FAILED, "invalid provenance record", errors=items) from None


def append_entry(store: DocumentStore, tenant_id: str, env: str, record: ProvenanceRecord | Mapping[str, Any],
                 *, source_event_id: str | None = None) -> dict[str, Any]:
    """Record an action directly (code that is not reporting it through a domain event)."""
    checked = as_record(record)
    return store.run_transaction(lambda tx: append_in(tx, tenant_id, env, checked, source_event_id=source_event_id))

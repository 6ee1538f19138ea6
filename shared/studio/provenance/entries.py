"""Reading the ledger: entries by filter, newest first."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.ports.store import Document, DocumentStore, Filter, Query
from studio.provenance import paths
from studio.provenance.chain_hash import ENTRY_FIELDS

if TYPE_CHECKING:  # the annotation only: the light path's query is read the same way (decision 0097)
    from studio.provenance.models import EntryQuery


def entry_view(doc: Document) -> dict[str, Any]:
    return {**{name: doc.data.get(name) for name in ENTRY_FIELDS}, "hash": doc.data.get("hash")}


def _time(value: Any) -> str:
    # Stored times are utc_now()'s fixed-width RFC 3339 with a Z: string order is time order.
    return str(value.isoformat(timespec="microseconds").replace("+00:00", "Z"))


def list_entries(store: DocumentStore, tenant_id: str, env: str, q: EntryQuery) -> dict[str, Any]:
    """Newest first (by time; Firestore orders a range query by its range field first)."""
    filters: list[Filter] = []
    if q.subject is not None:
        filters.append(Filter("subject_id", "==", q.subject))
    if q.action is not None:
        filters.append(Filter("action", "==", q.action))
    if q.actor is not None:
        filters.append(Filter("actor_id", "==", q.actor))
    if q.since is not None:
        filters.append(Filter("time", ">=", _time(q.since)))
    if q.until is not None:
        filters.append(Filter("time", "<", _time(q.until)))
    page = store.query(Query(paths.entries(tenant_id, env), filters, [("time", "desc")], q.limit,
                             q.page_token or None))
    return {"entries": [entry_view(doc) for doc in page.docs], "next_page_token": page.next_cursor}

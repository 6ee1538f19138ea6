"""One attempt of a Firestore store transaction: reads recorded, writes buffered, checked at commit.

``_Tx`` reads without locks and remembers what it saw: each document's update time (or absence)
and each query's result (paths and update times). Writes are buffered; ``flush`` turns them into
Firestore writes whose preconditions are the update times that were read (see firestore_store.py).
``unchanged`` re-reads what was only read (not written), or on the error path everything read,
and says whether it is still the same.
Buffering also lets a transaction read after it wrote, which Firestore itself forbids: a ``get``
sees the transaction's own writes; a ``query`` of a collection it already wrote to is refused.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.paths import check_collection_path, check_document_path
from studio.ports.store import Document, OutboxMessage, Page, Query, check_expected, parent_of
from studio.ports.vectors import is_vector_field

if TYPE_CHECKING:
    from studio.adapters.firestore_store import FirestoreStore

REV = "_rev"
# Firestore's TTL policies need a Timestamp field; our documents are JSON. A numeric
# ``expire_at_ts`` (epoch seconds, e.g. idempotency records) is mirrored into this reserved field,
# which infra/firestore.indexes.json puts the TTL policy on. Stripped on read like ``_rev``.
EXPIRES = "_expire_at"
TTL_SOURCE = "expire_at_ts"
OUTBOX = "outbox"


def rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_document(path: str, snap: Any) -> Document | None:
    if snap is None or not snap.exists:
        return None
    data = snap.to_dict() or {}
    data.pop(EXPIRES, None)
    for name in [k for k in data if is_vector_field(k) and data[k] is not None]:
        data[name] = [float(x) for x in data[name]]  # a Vector reads back as the list that was written
    rev = int(data.pop(REV, 1))  # a document written by someone else (console, import) counts as rev 1
    return Document(path, data, rev, rfc3339(snap.create_time), rfc3339(snap.update_time))


def clean(data: Mapping[str, Any]) -> dict[str, Any]:
    # The same JSON round trip as the SQLite adapter: what is read back equals what was written,
    # and NaN/Infinity are refused as there (JSON cannot carry them back out to a client).
    try:
        text = json.dumps(dict(data), separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:
        raise errors.StudioError(errors.INVALID_JSON, "documents hold finite numbers only (NaN and "
                                                      "Infinity are not JSON)") from None
    body: dict[str, Any] = json.loads(text)
    if REV in body or EXPIRES in body:
        raise errors.StudioError(errors.BAD_REQUEST, f"fields {REV!r} and {EXPIRES!r} are reserved by the store")
    bad = [k for k in body if not k or (k.startswith("__") and k.endswith("__"))]
    if bad:  # Firestore refuses empty names and reserves __x__
        raise errors.StudioError(errors.BAD_REQUEST, f"invalid field names {bad!r}")
    return body


def stored_form(doc: Document) -> dict[str, Any]:
    """What Firestore holds for ``doc``: its data plus the reserved fields."""
    body = {**doc.data, REV: doc.rev}
    for name in [k for k in body if is_vector_field(k) and isinstance(body[k], list)]:
        from google.cloud.firestore_v1.vector import Vector

        body[name] = Vector(body[name])  # embeddings as Vector values: what find_nearest searches
    ttl = doc.data.get(TTL_SOURCE)
    if isinstance(ttl, int | float) and not isinstance(ttl, bool):
        body[EXPIRES] = datetime.fromtimestamp(ttl, UTC)
    return body


@contextmanager
def mapped() -> Iterator[None]:
    """Google API errors as our own: transient ones become 503, refused requests 400."""
    from google.api_core import exceptions as gexc

    try:
        yield
    except (gexc.DeadlineExceeded, gexc.ServiceUnavailable, gexc.RetryError, gexc.InternalServerError) as exc:
        raise errors.Unavailable(f"Firestore unavailable ({type(exc).__name__})") from exc
    except gexc.InvalidArgument as exc:  # Google's words go to the log (chained), not to the caller
        raise errors.StudioError(errors.BAD_REQUEST, "Firestore refused the request") from exc


def _version(snap: Any) -> Any:
    return snap.update_time if snap.exists else None


class Tx:
    def __init__(self, store: FirestoreStore) -> None:
        self._store = store
        self._seen: dict[str, Any] = {}  # path -> snapshot as Firestore returned it
        self._view: dict[str, Document | None] = {}  # path -> state including our buffered writes
        self._written: dict[str, None] = {}  # ordered set of paths to write
        self._outbox: list[OutboxMessage] = []
        self._queries: list[tuple[Any, list[tuple[str, Any]]]] = []  # (Firestore query, what it returned)

    # -- the Transaction port ------------------------------------------------
    def get(self, path: str) -> Document | None:
        path = check_document_path(path)
        if path not in self._view:
            snap = self._store.read(path)
            self._seen[path] = snap
            self._view[path] = to_document(path, snap)
        return self._view[path]

    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        if self.get(path) is not None:
            raise errors.AlreadyExists(f"{path} already exists")
        return self._put(path, data, None)

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document:
        current = self.get(path)
        check_expected(current, expected_rev)
        return self._put(path, data, current)

    def delete(self, path: str, *, expected_rev: int | None = None) -> None:
        current = self.get(path)
        check_expected(current, expected_rev)
        if current is not None:
            self._view[current.path] = None
            self._written[current.path] = None

    def query(self, query: Query) -> Page:
        collection = check_collection_path(query.collection)
        if any(parent_of(p) == collection for p in self._written):
            # Firestore reads cannot see this transaction's writes: refuse rather than mislead.
            raise RuntimeError(f"query of {collection} after writing to it in the same transaction")
        page, fq, snaps = self._store.run_query(query)
        if fq is not None:
            self._queries.append((fq, [(s.reference.path, s.update_time) for s in snaps]))
        return page

    def emit(self, message: OutboxMessage) -> None:
        check_document_path(f"{OUTBOX}/{message.id}")
        self._outbox.append(message)

    def _put(self, path: str, data: Mapping[str, Any], current: Document | None) -> Document:
        stamp = utc_now()  # the commit time is not known yet
        doc = Document(path, clean(data), 1 if current is None else current.rev + 1,
                       stamp if current is None else current.create_time, stamp)
        self._view[path] = doc
        self._written[path] = None
        return doc

    # -- commit support ------------------------------------------------------
    @property
    def reads(self) -> int:
        return len(self._seen) + len(self._queries)

    @property
    def needs_validation(self) -> bool:
        """True when something was read but not written: no write precondition covers it."""
        return bool(self._queries) or any(p not in self._written for p in self._seen)

    def unchanged(self, native: Any = None, *, include_written: bool = False) -> bool:
        """Re-read (in ``native``, a Firestore transaction, when given: it locks them until the
        commit) what was only read; True when every document and query result is as it was.

        At commit, written documents need no re-read: their update-time preconditions check them.
        On the error path (``include_written``) nothing was sent, so a document that was read and
        then written (a seq counter) must be re-read too: if it moved, the error came from a stale
        read and the attempt is worth running again (issue 16)."""
        client, timeout = self._store.client, self._store.timeout
        only_read = list(self._seen) if include_written else [p for p in self._seen if p not in self._written]
        if only_read:
            refs = [client.document(p) for p in only_read]
            with mapped():
                now = {s.reference.path: _version(s) for s in
                       client.get_all(refs, transaction=native, retry=None, timeout=timeout)}
            if any(now.get(p) != _version(self._seen[p]) for p in only_read):
                return False
        for fq, before in self._queries:
            with mapped():
                snaps = native.get(fq, retry=None, timeout=timeout) if native is not None \
                    else fq.stream(retry=None, timeout=timeout)
                if [(s.reference.path, s.update_time) for s in snaps] != before:
                    return False
        return True

    def flush(self, sink: Any) -> int:
        """Add the net writes to ``sink`` (a Transaction or WriteBatch); returns how many."""
        from google.cloud import firestore
        from google.cloud.firestore_v1.field_path import FieldPath

        client, count = self._store.client, len(self._outbox)
        for path in self._written:
            doc, snap, ref = self._view[path], self._seen[path], client.document(path)
            count += doc is not None or snap.exists  # created and deleted again: nothing to write
            if doc is None:
                if snap.exists:
                    sink.delete(ref, option=client.write_option(last_update_time=snap.update_time))
            elif not snap.exists:
                sink.create(ref, stored_form(doc))  # precondition: exists=false
            else:  # a full replacement as an update, so it can carry the update-time precondition
                body = stored_form(doc)
                fields = {FieldPath(k).to_api_repr(): v for k, v in body.items()}
                for old in (snap.to_dict() or {}).keys() - body.keys():
                    fields[FieldPath(old).to_api_repr()] = firestore.DELETE_FIELD
                sink.update(ref, fields, option=client.write_option(last_update_time=snap.update_time))
        for msg in self._outbox:
            # set, not create: ids are unique (uuid); a failed precondition would only look like contention.
            sink.set(client.document(f"{OUTBOX}/{msg.id}"), {
                "topic": msg.topic, "data": msg.data, "attributes": dict(msg.attributes),
                "ordering_key": msg.ordering_key, "created": firestore.SERVER_TIMESTAMP})
        return count

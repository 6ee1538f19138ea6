"""Document store on Firestore (native mode): the Google Cloud adapter behind ``DocumentStore``.

Revisions. ``rev`` is kept inside each stored document as the reserved field ``_rev`` (a data
key named ``_rev`` is refused); ``create_time``/``update_time`` are Firestore's own timestamps.
A revision check is a read followed by a write whose precondition is the *update time of that
read*: a document read at update time T with ``_rev`` N is replaced only while it is still at T,
so "expected rev N" becomes "last_update_time == T" and a concurrent writer cannot slip between.
Concretely: a document that did not exist is written with ``create`` (precondition exists=false),
an existing one with ``update`` of every field, dropped fields deleted (precondition
last_update_time), a delete with ``delete`` (precondition last_update_time).

* Single-document ``create``/``put``/``delete`` need no transaction: a plain read, then one
  commit with that precondition (``create`` and ``put(expected_rev=0)`` skip the read). A failed
  precondition means someone wrote in between: read again and re-decide, a few times.
* ``run_transaction(fn)`` runs ``fn`` in a Firestore transaction (``@firestore.transactional``):
  every read goes through it (Firestore locks, or validates at commit, what a transaction read),
  writes are buffered in ``_Tx`` and added at the end with the same preconditions. Buffering is
  why ``fn`` may read after it wrote (Firestore itself forbids that; a ``tx.get`` sees the
  transaction's own writes, a ``tx.query`` of a collection it already wrote to is refused).
  On contention Firestore aborts and ``fn`` RUNS AGAIN from the start (the client retries with
  its "spot in line", then this adapter backs off and retries until ``tx_deadline_s``): ``fn``
  must be idempotent apart from its ``tx`` calls: no sends, no appends to outside lists.
* ``tx.emit`` writes ``outbox/{id}`` in the same commit (created at the server's timestamp);
  ``outbox_pending`` reads them oldest first and ``outbox_done`` deletes them.

Documents returned by writes inside ``run_transaction`` carry this machine's clock as
``update_time`` (the commit time is not known yet); single-document writes return the commit's.
Firestore has no global change log: ``changes``/``wait_for_change`` raise NotImplementedError and
``watch`` (an ``on_snapshot`` listener, see firestore_watch.py) is the feed.

The google client is imported on first use only (it costs ~0.55 s of cold start). Every call has
a timeout and ``retry=None`` (a failed read surfaces as 503 Unavailable instead of hanging);
BeginTransaction/Commit inside ``@transactional`` keep the client's default deadline, which the
public API does not let us pass.
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.paths import check_collection_path, check_document_path
from studio.ports.store import Change, Document, OutboxMessage, Page, Query, parent_of

T = TypeVar("T")
REV = "_rev"
OUTBOX = "outbox"
NO_FEED = ("Firestore has no global change log: use watch(collection, callback) (an on_snapshot "
           "listener) to follow a collection, and the outbox for domain events")


def rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_document(path: str, snap: Any) -> Document | None:
    if snap is None or not snap.exists:
        return None
    data = snap.to_dict() or {}
    rev = int(data.pop(REV, 1))  # a document written by someone else (console, import) counts as rev 1
    return Document(path, data, rev, rfc3339(snap.create_time), rfc3339(snap.update_time))


def _clean(data: Mapping[str, Any]) -> dict[str, Any]:
    # The same JSON round trip as the SQLite adapter: what is read back equals what was written.
    body: dict[str, Any] = json.loads(json.dumps(dict(data), separators=(",", ":"), default=str))
    if REV in body:
        raise errors.StudioError(errors.BAD_REQUEST, f"field {REV!r} is reserved by the store")
    return body


def _check_expected(current: Document | None, expected_rev: int | None) -> None:
    if expected_rev is None:
        return
    actual = 0 if current is None else current.rev
    if actual != expected_rev:
        if current is None:
            raise errors.NotFound("document does not exist")
        raise errors.RevisionConflict(actual)


@contextmanager
def _mapped() -> Iterator[None]:
    """Google API errors as our own: transient ones become 503, bad requests 400."""
    from google.api_core import exceptions as gexc

    try:
        yield
    except (gexc.DeadlineExceeded, gexc.ServiceUnavailable, gexc.RetryError, gexc.InternalServerError) as exc:
        raise errors.Unavailable(f"Firestore unavailable: {exc}") from exc
    except gexc.InvalidArgument as exc:
        raise errors.StudioError(errors.BAD_REQUEST, f"Firestore refused the request: {exc}") from exc


class _Tx:
    """One attempt: reads through ``native`` (a Firestore transaction, or plain reads when None),
    writes buffered until ``flush`` adds them, with their preconditions, to a transaction or batch."""

    def __init__(self, store: FirestoreStore, native: Any = None) -> None:
        self._store = store
        self._native = native
        self._seen: dict[str, Any] = {}  # path -> snapshot as Firestore returned it
        self._view: dict[str, Document | None] = {}  # path -> state including our buffered writes
        self._written: dict[str, None] = {}  # ordered set of paths to write
        self._outbox: list[OutboxMessage] = []

    def get(self, path: str) -> Document | None:
        path = check_document_path(path)
        if path not in self._view:
            snap = self._store._read(path, self._native)
            self._seen[path] = snap
            self._view[path] = to_document(path, snap)
        return self._view[path]

    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        if self.get(path) is not None:
            raise errors.AlreadyExists(f"{path} already exists")
        return self._put(path, data, None)

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document:
        current = self.get(path)
        _check_expected(current, expected_rev)
        return self._put(path, data, current)

    def delete(self, path: str, *, expected_rev: int | None = None) -> None:
        current = self.get(path)
        _check_expected(current, expected_rev)
        if current is not None:
            self._view[current.path] = None
            self._written[current.path] = None

    def query(self, query: Query) -> Page:
        collection = check_collection_path(query.collection)
        if any(parent_of(p) == collection for p in self._written):
            # Firestore reads cannot see the transaction's own writes: refuse rather than mislead.
            raise RuntimeError(f"query of {collection} after writing to it in the same transaction")
        return self._store._query(query, self._native)

    def emit(self, message: OutboxMessage) -> None:
        check_document_path(f"{OUTBOX}/{message.id}")
        self._outbox.append(message)

    def _put(self, path: str, data: Mapping[str, Any], current: Document | None) -> Document:
        stamp = utc_now()
        doc = Document(path, _clean(data), 1 if current is None else current.rev + 1,
                       stamp if current is None else current.create_time, stamp)
        self._view[path] = doc
        self._written[path] = None
        return doc

    def flush(self, sink: Any) -> int:
        """Add the net writes to ``sink`` (Transaction or WriteBatch); returns how many."""
        from google.cloud import firestore
        from google.cloud.firestore_v1.field_path import FieldPath

        client = self._store.client
        for path in self._written:
            doc, snap, ref = self._view[path], self._seen[path], client.document(path)
            if doc is None:
                if snap.exists:
                    sink.delete(ref, option=client.write_option(last_update_time=snap.update_time))
            elif not snap.exists:
                sink.create(ref, {**doc.data, REV: doc.rev})
            else:  # a full replacement as an update, so it can carry the update-time precondition
                fields = {FieldPath(k).to_api_repr(): v for k, v in doc.data.items()}
                for old in (snap.to_dict() or {}).keys() - doc.data.keys() - {REV}:
                    fields[FieldPath(old).to_api_repr()] = firestore.DELETE_FIELD
                fields[REV] = doc.rev
                sink.update(ref, fields, option=client.write_option(last_update_time=snap.update_time))
        for msg in self._outbox:
            sink.create(client.document(f"{OUTBOX}/{msg.id}"), {
                "topic": msg.topic, "data": msg.data, "attributes": dict(msg.attributes),
                "ordering_key": msg.ordering_key, "created": firestore.SERVER_TIMESTAMP})
        return len(self._written) + len(self._outbox)


class FirestoreStore:
    def __init__(self, project: str, database: str = "(default)", *, client: Any | None = None,
                 timeout_s: float = 10.0, tx_deadline_s: float = 30.0, max_attempts: int = 10) -> None:
        self.project = project
        self.database = database
        self._client_obj = client
        self._lock = threading.Lock()
        self._timeout = timeout_s
        self._tx_deadline = tx_deadline_s
        self._max_attempts = max_attempts

    @property
    def client(self) -> Any:
        if self._client_obj is None:
            with self._lock:
                if self._client_obj is None:
                    from google.cloud import firestore

                    self._client_obj = firestore.Client(project=self.project, database=self.database)
        return self._client_obj

    def close(self) -> None:
        if self._client_obj is not None:
            self._client_obj.close()

    # -- reads -------------------------------------------------------------
    def _read(self, path: str, native: Any = None) -> Any:
        ref = self.client.document(path)
        with _mapped():
            if native is not None:
                return next(iter(native.get(ref, retry=None, timeout=self._timeout)))
            return ref.get(retry=None, timeout=self._timeout)

    def get(self, path: str) -> Document | None:
        path = check_document_path(path)
        return to_document(path, self._read(path))

    def query(self, query: Query) -> Page:
        return self._query(query)

    def _query(self, query: Query, native: Any = None) -> Page:
        from studio.adapters import firestore_query

        built = firestore_query.build(self.client, query)
        if built is None:
            return Page([], None)
        fq, fields = built
        with _mapped():
            stream = native.get(fq, retry=None, timeout=self._timeout) if native is not None \
                else fq.stream(retry=None, timeout=self._timeout)
            snaps = list(stream)
        docs = [to_document(s.reference.path, s) for s in snaps[: query.limit]]
        cursor = firestore_query.cursor_after(snaps[query.limit - 1], fields) if len(snaps) > query.limit else None
        return Page([d for d in docs if d is not None], cursor)

    # -- single-document writes: read, then one commit with a precondition ----
    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        from google.api_core import exceptions as gexc

        path, body = check_document_path(path), _clean(data)
        batch = self.client.batch()
        batch.create(self.client.document(path), {**body, REV: 1})
        try:
            with _mapped():
                result = batch.commit(retry=None, timeout=self._timeout)[0]
        except gexc.AlreadyExists as exc:
            raise errors.AlreadyExists(f"{path} already exists") from exc
        stamp = rfc3339(result.update_time)
        return Document(path, body, 1, stamp, stamp)

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document:
        path = check_document_path(path)
        if expected_rev == 0:
            try:
                return self.create(path, data)
            except errors.AlreadyExists:
                current = self.get(path)
                raise errors.RevisionConflict(current.rev if current else 0) from None
        return self._single(lambda tx: tx.put(path, data, expected_rev=expected_rev))

    def delete(self, path: str, *, expected_rev: int | None = None) -> None:
        path = check_document_path(path)
        self._single(lambda tx: tx.delete(path, expected_rev=expected_rev))

    def _single(self, fn: Callable[[_Tx], Document | None]) -> Any:
        from google.api_core import exceptions as gexc

        for attempt in range(self._max_attempts):
            tx = _Tx(self)
            doc = fn(tx)
            batch = self.client.batch()
            if not tx.flush(batch):
                return doc
            try:
                with _mapped():
                    result = batch.commit(retry=None, timeout=self._timeout)[0]
            except (gexc.FailedPrecondition, gexc.AlreadyExists):  # written since our read: re-decide
                time.sleep(random.uniform(0, 0.01 * 2 ** attempt))  # noqa: S311 - jitter, not crypto
                continue
            if doc is None:
                return None
            stamp = rfc3339(result.update_time)
            return replace(doc, update_time=stamp, create_time=stamp if doc.rev == 1 else doc.create_time)
        raise errors.Unavailable("document kept changing under a conditional write; retry")

    # -- transactions --------------------------------------------------------
    def run_transaction(self, fn: Callable[[_Tx], T]) -> T:
        """Runs ``fn`` in a Firestore transaction; ``fn`` is re-run on contention (keep it idempotent)."""
        from google.api_core import exceptions as gexc
        from google.cloud import firestore

        def attempt(native: Any) -> T:
            tx = _Tx(self, native)
            result = fn(tx)
            tx.flush(native)
            return result

        deadline, delay = time.monotonic() + self._tx_deadline, 0.02
        while True:
            try:
                with _mapped():
                    return firestore.transactional(attempt)(self.client.transaction(max_attempts=self._max_attempts))
            except (gexc.Aborted, ValueError) as exc:
                # Aborted on a read, or the client's own retries used up (a ValueError from Aborted).
                if isinstance(exc, ValueError) and not isinstance(exc.__cause__, gexc.Aborted):
                    raise
                if time.monotonic() + delay > deadline:
                    raise errors.Unavailable("transaction contention; retry") from exc
            time.sleep(random.uniform(delay / 2, delay))  # noqa: S311 - jitter, not crypto
            delay = min(delay * 2, 1.0)

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """One attempt, no retry (a ``with`` body cannot be re-run): contention raises Unavailable.
        Prefer ``run_transaction``. Uses the client's _begin/_commit/_rollback, as @transactional does."""
        from google.api_core import exceptions as gexc

        native = self.client.transaction(max_attempts=1)
        with _mapped():
            native._begin()
        try:
            tx = _Tx(self, native)
            yield tx
            tx.flush(native)
            with _mapped():
                native._commit()
        except BaseException as exc:
            if native.in_progress:
                native._rollback()
            if isinstance(exc, gexc.Aborted):
                raise errors.Unavailable("transaction contention; retry") from exc
            raise

    # -- change feed: Firestore has none; watch() is the feed ------------------
    def changes(self, prefix: str, after: int = 0, limit: int = 500) -> list[Change]:
        raise NotImplementedError(NO_FEED)

    def wait_for_change(self, after: int, timeout: float) -> int:
        raise NotImplementedError(NO_FEED)

    def watch(self, collection: str, callback: Callable[[Change], None], *, after: int | None = None) -> Any:
        from studio.adapters.firestore_watch import FirestoreWatch

        return FirestoreWatch(self.client, check_collection_path(collection), callback, after)

    # -- outbox ------------------------------------------------------------
    def outbox_pending(self, limit: int = 100) -> list[OutboxMessage]:
        fq = self.client.collection(OUTBOX).order_by("created").order_by("__name__").limit(limit)
        with _mapped():
            snaps = list(fq.stream(retry=None, timeout=self._timeout))
        out = []
        for s in snaps:
            d = s.to_dict() or {}
            out.append(OutboxMessage(s.id, d["topic"], bytes(d["data"]), dict(d.get("attributes") or {}),
                                     d.get("ordering_key", "")))
        return out

    def outbox_done(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for start in range(0, len(ids), 500):  # a commit takes at most 500 writes
            batch = self.client.batch()
            for msg_id in ids[start:start + 500]:
                batch.delete(self.client.document(check_document_path(f"{OUTBOX}/{msg_id}")))
            with _mapped():
                batch.commit(retry=None, timeout=self._timeout)

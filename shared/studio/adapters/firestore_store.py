"""Document store on Firestore (native mode): the Google Cloud adapter behind ``DocumentStore``.

Revisions. ``rev`` lives inside each stored document as the reserved field ``_rev`` (a data key
named ``_rev`` is refused); ``create_time``/``update_time`` are Firestore's own timestamps. A write
that depends on a read carries a precondition on *the update time that read returned*: a document
read at update time T with ``_rev`` N is replaced only while it is still at T, so "expected rev N"
is enforced as "last_update_time == T" by Firestore itself and no concurrent writer can slip in
between. A document that did not exist is written with ``create`` (precondition exists=false), an
existing one with ``update`` of every field, dropped fields deleted (precondition
last_update_time), a delete with ``delete`` (precondition last_update_time).

Transactions are optimistic and validated at commit (firestore_tx.py):

1. ``fn(tx)`` runs on plain reads (no locks held while our code runs); writes are buffered.
2. Commit. If every document read was also written, the preconditions cover all of them: one
   atomic batch commit. Otherwise (documents only read, or queries) the commit runs in
   ``@firestore.transactional``: what was only read is re-read in that transaction (which locks it
   until the commit) and must be unchanged, then the writes are added with their preconditions.
3. A failed precondition, a changed read or an ABORTED transaction means someone wrote in
   between: back off (jittered, exponential) and RUN ``fn`` AGAIN, until ``tx_deadline_s``
   (then 503). So ``fn`` must be idempotent apart from its ``tx`` calls: no sends, no appends to
   outside lists. An error raised by ``fn`` after two or more reads is re-checked the same way
   first, so it is never based on a torn view.

Why not lock on every read (the plain ``@transactional`` pattern): Firestore's pessimistic reads
make two read-then-write transactions on one document wait on each other (the emulator settles
that by a 2 s lock timeout: 4 threads x 25 increments took 81 s; this way ~1.3 s). Locks are now
held only for the validating re-read, just before the commit.

``tx.emit`` writes ``outbox/{id}`` in the same commit at the server's timestamp; ``outbox_pending``
reads them oldest first, ``outbox_done`` deletes them. Documents returned by writes inside
``run_transaction`` carry this machine's clock as ``update_time`` (the commit time is not known
yet); single-document writes return the commit's. Firestore has no global change log:
``changes``/``wait_for_change`` raise NotImplementedError; ``watch`` (an ``on_snapshot`` listener,
firestore_watch.py) is the feed.

The google client is imported on first use only (~0.55 s of cold start). Every read and batch
commit has a timeout and ``retry=None`` (a failure surfaces as 503 instead of hanging);
BeginTransaction/Commit inside ``@transactional`` keep the client's default deadline, which its
public API does not let us set.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar

from studio.adapters.firestore_tx import OUTBOX, Tx, clean, mapped, rfc3339, stored_form, to_document
from studio.kernel import errors, tx_journal
from studio.kernel.paths import check_collection_path, check_document_path
from studio.kernel.tx_journal import journaled
from studio.ports.store import Change, Document, OutboxMessage, Page, Query

T = TypeVar("T")
NO_FEED = ("Firestore has no global change log: use watch(collection, callback) (an on_snapshot "
           "listener) to follow a collection, and the outbox for domain events")


class _Stale(Exception):
    """Something the attempt read changed before it could commit: run it again."""


class FirestoreStore:
    def __init__(self, project: str, database: str = "(default)", *, client: Any | None = None,
                 timeout_s: float = 10.0, tx_deadline_s: float = 30.0) -> None:
        self.project = project
        self.database = database
        self.timeout = timeout_s
        self._client_obj = client
        self._lock = threading.Lock()
        self._tx_deadline = tx_deadline_s

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
    def read(self, path: str) -> Any:
        with mapped():
            return self.client.document(path).get(retry=None, timeout=self.timeout)

    def get(self, path: str) -> Document | None:
        path = check_document_path(path)
        return to_document(path, self.read(path))

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        checked = [check_document_path(p) for p in paths]
        if not checked:
            return []
        with mapped():
            snaps = {s.reference.path: s for s in self.client.get_all(
                [self.client.document(p) for p in checked], retry=None, timeout=self.timeout)}
        return [to_document(p, snaps.get(p)) for p in checked]

    def query(self, query: Query) -> Page:
        return self.run_query(query)[0]

    def run_query(self, query: Query) -> tuple[Page, Any, list[Any]]:
        """The page, plus the Firestore query and every snapshot it returned (for validation)."""
        from studio.adapters import firestore_query

        built = firestore_query.build(self.client, query)
        if built is None:
            return Page([], None), None, []
        fq, fields = built
        with mapped():
            snaps = list(fq.stream(retry=None, timeout=self.timeout))
        docs = [to_document(s.reference.path, s) for s in snaps[: query.limit]]
        cursor = firestore_query.cursor_after(snaps[query.limit - 1], fields) if len(snaps) > query.limit else None
        return Page([d for d in docs if d is not None], cursor), fq, snaps

    # -- writes ------------------------------------------------------------
    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        from google.api_core import exceptions as gexc

        path, body = check_document_path(path), clean(data)
        if tx_journal.active() is not None:  # the key's record must join this commit: a transaction
            return self.run_transaction(lambda tx: tx.create(path, body))
        batch = self.client.batch()
        # No read needed: the precondition exists=false is the check.
        batch.create(self.client.document(path), stored_form(Document(path, body, 1, "", "")))
        try:
            with mapped():
                result = batch.commit(retry=None, timeout=self.timeout)[0]
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
        doc, results = self._run(lambda tx: tx.put(path, data, expected_rev=expected_rev))
        stamp = rfc3339(results[0].update_time)  # the commit's time, not this machine's
        return replace(doc, update_time=stamp, create_time=stamp if doc.rev == 1 else doc.create_time)

    def delete(self, path: str, *, expected_rev: int | None = None) -> None:
        path = check_document_path(path)
        self._run(lambda tx: tx.delete(path, expected_rev=expected_rev))

    # -- transactions --------------------------------------------------------
    def run_transaction(self, fn: Callable[[Tx], T]) -> T:
        """Runs ``fn`` and commits its writes atomically; ``fn`` re-runs on contention (keep it idempotent)."""
        return self._run(fn)[0]

    def _run(self, fn: Callable[[Tx], T]) -> tuple[T, list[Any]]:
        step = journaled(fn)  # inside a keyed request: the Idempotency-Key's record commits with it
        deadline, delay = time.monotonic() + self._tx_deadline, 0.01
        while True:
            tx = Tx(self)
            try:
                result = step(tx)
            except Exception:
                # One read is atomic; several must still agree. A document read and then written
                # (a counter) counts: an error built on a stale read of it is contention, not an answer.
                if tx.reads < 2 or tx.unchanged(include_written=True):
                    raise
            else:
                try:
                    return result, self._commit(tx)
                except _Stale:
                    pass
            if time.monotonic() + delay > deadline:
                raise errors.Unavailable("transaction contention: the documents kept changing; retry")
            time.sleep(random.uniform(delay / 2, delay))  # noqa: S311 - jitter, not crypto
            delay = min(delay * 2, 0.5)

    def _commit(self, tx: Tx) -> list[Any]:
        """Commit ``tx``'s writes; raises _Stale when something it relied on changed meanwhile."""
        from google.api_core import exceptions as gexc
        from google.cloud import firestore

        try:
            if not tx.needs_validation:
                batch = self.client.batch()
                if not tx.flush(batch):
                    return []
                with mapped():
                    return list(batch.commit(retry=None, timeout=self.timeout))

            def validate_and_write(native: Any) -> None:
                if not tx.unchanged(native):
                    raise _Stale
                tx.flush(native)

            native = self.client.transaction()
            with mapped():
                firestore.transactional(validate_and_write)(native)
            return list(getattr(native, "write_results", None) or [])
        except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.Aborted) as exc:
            raise _Stale from exc
        except ValueError as exc:  # the client's own ABORTED retries used up
            if isinstance(exc.__cause__, gexc.Aborted):
                raise _Stale from exc
            raise

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One attempt (a ``with`` body cannot be re-run): if what it read changed before the
        commit, raises Unavailable and writes nothing. Prefer ``run_transaction``."""
        tx = Tx(self)
        yield tx
        try:
            self._commit(tx)
        except _Stale as exc:
            raise errors.Unavailable("the documents changed during the transaction; retry") from exc

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
        with mapped():
            snaps = list(fq.stream(retry=None, timeout=self.timeout))
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
            with mapped():
                batch.commit(retry=None, timeout=self.timeout)

"""Document store port: Firestore's model (paths, documents, transactions, queries,
a change feed) with revisions managed by the store itself.

Paths alternate collection/document: ``tenants/t_abc/envs/dev/threads/th_1``.
Every document carries ``rev`` (1 on create, +1 per write); writes may state the
revision they expect so nothing overwrites blindly.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from studio.kernel import errors
from studio.kernel.json_input import parse_json

T = TypeVar("T")

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "array_contains"]
Direction = Literal["asc", "desc"]


@dataclass(frozen=True)
class Document:
    path: str
    data: dict[str, Any]
    rev: int
    create_time: str
    update_time: str

    @property
    def doc_id(self) -> str:
        """The last segment of the path (Firestore's document id)."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Filter:
    field: str
    op: Op
    value: Any


@dataclass(frozen=True)
class Query:
    collection: str
    filters: Sequence[Filter] = ()
    order_by: Sequence[tuple[str, Direction]] = ()
    limit: int = 100
    cursor: str | None = None


@dataclass(frozen=True)
class Page:
    docs: list[Document]
    next_cursor: str | None


@dataclass(frozen=True)
class Change:
    """One committed write, in commit order. ``seq`` is the feed's offset."""

    seq: int
    path: str
    op: Literal["put", "delete"]
    rev: int
    data: dict[str, Any] | None
    time: str


@dataclass(frozen=True)
class OutboxMessage:
    """A domain event written in the same commit as the state change it reports."""

    id: str
    topic: str
    data: bytes
    attributes: Mapping[str, str] = field(default_factory=dict)
    ordering_key: str = ""


class Watch(Protocol):
    def close(self) -> None: ...


class Transaction(Protocol):
    def get(self, path: str) -> Document | None: ...

    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        """Raises AlreadyExists."""
        ...

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document:
        """Upsert. ``expected_rev=0`` means must not exist; a mismatch raises RevisionConflict."""
        ...

    def delete(self, path: str, *, expected_rev: int | None = None) -> None: ...

    def query(self, query: Query) -> Page:
        """Reads inside the transaction (e.g. counting owners before a demotion)."""
        ...

    def emit(self, message: OutboxMessage) -> None:
        """Queue a bus message; it is published only if this transaction commits."""
        ...


class DocumentStore(Protocol):
    def get(self, path: str) -> Document | None: ...

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        """Several documents in one round trip (Firestore: ``get_all``), in the order asked."""
        ...

    def create(self, path: str, data: Mapping[str, Any]) -> Document: ...

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document: ...

    def delete(self, path: str, *, expected_rev: int | None = None) -> None: ...

    def query(self, query: Query) -> Page: ...

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def run_transaction(self, fn: Callable[[Transaction], T]) -> T: ...

    def changes(self, prefix: str, after: int = 0, limit: int = 500) -> list[Change]: ...

    def watch(self, collection: str, callback: Callable[[Change], None], *, after: int | None = None) -> Watch:
        """Call ``callback`` on a background thread for every later change to a document directly
        in ``collection``, in commit order (Firestore: an on_snapshot listener)."""
        ...

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Block until the feed passes ``after`` (or timeout); returns the latest seq."""
        ...

    def outbox_pending(self, limit: int = 100) -> list[OutboxMessage]: ...

    def outbox_done(self, ids: Sequence[str]) -> None: ...


def check_expected(current: Document | None, expected_rev: int | None) -> None:
    """The revision rule every adapter applies: 0 = must not exist; a mismatch is a conflict."""
    if expected_rev is None:
        return
    actual = 0 if current is None else current.rev
    if actual != expected_rev:
        if current is None:
            raise errors.NotFound("document does not exist")
        raise errors.RevisionConflict(actual)


def encode_page_token(values: list[Any]) -> str:
    """Opaque cursor: the last document's order values (and its id), as the adapters page."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_INT64 = 2**63  # what SQLite and Firestore hold; a token is client input, so its values are bounded


def _token_value_ok(v: Any) -> bool:
    if isinstance(v, int) and not isinstance(v, bool):
        return -_INT64 <= v < _INT64
    return v is None or isinstance(v, (str, float, bool))


def decode_page_token(token: str, width: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = parse_json(raw, what="page token")  # no NaN, no depth bomb
    except (ValueError, errors.StudioError):
        raise errors.StudioError(errors.BAD_REQUEST, "invalid page token") from None
    if not isinstance(values, list) or len(values) != width or not all(_token_value_ok(v) for v in values):
        raise errors.StudioError(errors.BAD_REQUEST, "invalid page token")
    return values


def join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p)


def parent_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def iter_all(store: DocumentStore, query: Query) -> Iterator[Document]:
    """Every page of a query, following cursors."""
    q = query
    while True:
        page = store.query(q)
        yield from page.docs
        if not page.next_cursor:
            return
        q = Query(q.collection, q.filters, q.order_by, q.limit, page.next_cursor)

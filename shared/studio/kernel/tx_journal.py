"""The store transactions of one keyed request, journaled in its idempotency record.

A request carrying an ``Idempotency-Key`` holds the key's record (``kernel.idempotency``) while
its handler runs. Each store transaction the handler commits also appends its result to that
record, in the same commit. So the key and the effect commit together: a process killed at any
instant leaves either no effect or an effect with its journal entry, never an effect the key
does not know about.

A retry after a crash runs the handler again. Its n-th transaction finds entry n in the journal
and returns the recorded result without running: nothing is written twice, and the handler
rebuilds the same response from the same results. The handler's rule: a value the response
shows (an id, a token) is made inside the transaction that stores it, or derived from what a
transaction returned, never minted between transactions (docs/decisions/0020).

Each step also checks that this attempt still holds the key: an attempt that outlived its lease
and was superseded by a retry cannot commit anything more.

Store adapters call ``journaled(fn)`` on every transaction function; outside a keyed request it
returns ``fn`` unchanged.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from studio.kernel import errors
from studio.ports.store import Document, Transaction

T = TypeVar("T")
Tx = TypeVar("Tx", bound=Transaction)  # each adapter's own transaction type

_current: ContextVar[Journal | None] = ContextVar("studio_tx_journal", default=None)


class Journal:
    """One attempt of one keyed request: its record's path, its attempt id, its lease."""

    def __init__(self, path: str, attempt: str, renew: Callable[[], float]) -> None:
        self.path = path
        self.attempt = attempt
        self._renew = renew  # -> the new lease deadline, written with each step
        self._next = 0
        self.replayed = 0  # steps answered from the journal: the effect was an earlier attempt's
        self._tokens: dict[str, int] = {}

    def wrap(self, fn: Callable[[Tx], T]) -> Callable[[Tx], T]:
        index = self._next  # fixed now: an adapter may run the wrapped function again on contention
        self._next += 1
        return lambda tx: self._step(tx, fn, index)

    def _step(self, tx: Tx, fn: Callable[[Tx], T], index: int) -> T:
        record = tx.get(self.path)  # read first: Firestore transactions read before they write
        if record is None or record.data.get("attempt") != self.attempt or record.data.get("state") != "in_flight":
            raise errors.StudioError(errors.IDEMPOTENCY_KEY_IN_USE, "a retry with this Idempotency-Key took over "
                                     "from this request", headers={"Retry-After": "1"})
        journal = list(record.data.get("journal") or [])
        if index < len(journal):
            self.replayed += 1
            return decode(journal[index])  # type: ignore[no-any-return]
        result = fn(tx)
        tx.put(self.path, dict(record.data, journal=[*journal, encode(result)], lease_until=self._renew()))
        return result

    def stable_token(self, label: str) -> str:
        """A hex string that the n-th call with ``label`` returns on every attempt of this keyed
        request: e.g. the id of an event a consumer dedupes on, when the effect is a bus publish
        rather than a store write."""
        n = self._tokens[label] = self._tokens.get(label, 0) + 1
        return hashlib.sha256(f"{self.path}\x00{label}\x00{n}".encode()).hexdigest()[:32]


def journaled(fn: Callable[[Tx], T]) -> Callable[[Tx], T]:
    """What a store adapter runs for ``run_transaction(fn)``."""
    journal = _current.get()
    return fn if journal is None else journal.wrap(fn)


def active() -> Journal | None:
    return _current.get()


@contextmanager
def journaling(journal: Journal | None) -> Iterator[Journal | None]:
    """Journal the store transactions run inside (None: journal none, e.g. the key's own bookkeeping)."""
    token = _current.set(journal)
    try:
        yield journal
    finally:
        _current.reset(token)


# -- the codec: what a transaction returns, as JSON ---------------------------------------


def encode(value: Any) -> Any:
    """Transaction results are JSON values, Documents, tuples, or dataclasses of the library."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a journaled mapping needs string keys")
        body = {k: encode(v) for k, v in value.items()}
        return {"$dict": body} if any(k.startswith("$") for k in value) else body
    if isinstance(value, Document):
        return {"$document": [value.path, encode(value.data), value.rev, value.create_time, value.update_time]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and type(value).__module__.startswith("studio."):
        cls = type(value)
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        return {"$dataclass": [f"{cls.__module__}:{cls.__qualname__}", fields]}
    raise TypeError(f"a store transaction returned a {type(value).__name__}, which the idempotency journal "
                    "cannot record: return JSON values, Documents, tuples or dataclasses")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, body), = value.items()
        if tag == "$tuple":
            return tuple(decode(v) for v in body)
        if tag == "$dict":
            return {k: decode(v) for k, v in body.items()}
        if tag == "$document":
            path, data, rev, created, updated = body
            return Document(path, decode(data), rev, created, updated)
        if tag == "$dataclass":
            name, fields = body
            module, _, qualname = name.partition(":")
            if not module.startswith("studio."):
                raise ValueError(f"journal names a class outside the library: {name}")
            cls: Any = importlib.import_module(module)
            for part in qualname.split("."):
                cls = getattr(cls, part)
            return cls(**{k: decode(v) for k, v in fields.items()})
    return {k: decode(v) for k, v in value.items()}

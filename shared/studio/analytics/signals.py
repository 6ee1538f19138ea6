"""The signals registry (D12): typed definitions, and their values per subject, kept on ingest.

A definition names its source event (type, optional name, equality filter), a window and an
aggregation; its ``rev`` versions it: a subject's state built under another rev starts over (the
values are computed from the change on, never by rescanning). ``apply_event`` is called by the writer
for every stored event: it updates the subject's document (``signal_subjects/{subject}``, every
signal's state in one document) in one transaction with the event's dedupe marker, so a redelivered
event counts once.
"""
from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any

from studio.analytics import paths, signal_state
from studio.analytics.errors import SIGNAL_INVALID, SIGNAL_NAME_TAKEN
from studio.kernel import errors, repository
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.dedupe import apply_once
from studio.kernel.events import DomainEvent, emit
from studio.ports.store import Document, DocumentStore, Query, Transaction

MAX_SIGNALS = 100
DEFINITIONS_CACHE_S = 5.0  # a new or changed definition reaches every writer instance within this long
CONSUMER = "analytics_signals"
_NUMERIC_FIELDS = ("value",)


def subject_of(row: dict[str, Any]) -> str | None:
    """Whose signal an event feeds: the signed-in user, else the browser's anonymous id."""
    return row.get("user_id") or row.get("anonymous_id") or None


def check_definition(d: dict[str, Any]) -> None:
    """Refuse a type, aggregation and field that do not fit together."""
    agg, kind, fld = d["aggregation"], d["type"], d.get("field")

    def bad(msg: str) -> errors.StudioError:
        return errors.StudioError(SIGNAL_INVALID, msg, errors=[{"loc": ["body"], "msg": msg}])

    if agg in ("count", "distinct_count") and kind != "number":
        raise bad(f"{agg} gives a number: type must be 'number'")
    if agg == "exists" and kind != "bool":
        raise bad("exists gives a bool: type must be 'bool'")
    if agg in ("sum", "avg"):
        if kind != "number":
            raise bad(f"{agg} gives a number: type must be 'number'")
        if fld is None or not (fld in _NUMERIC_FIELDS or fld.startswith("props.")):
            raise bad(f"{agg} needs a numeric field: 'value' or props.<key>")
    if agg in ("first", "last", "distinct_count") and fld is None:
        raise bad(f"{agg} needs a field")
    if agg in ("first", "last") and fld is not None:
        expected = "timestamp" if fld == "ts" else "number" if fld == "value" else None
        if expected is not None and kind != expected:
            raise bad(f"{agg} of {fld} is a {expected}: type must be '{expected}'")
        if expected is None and not fld.startswith("props.") and kind != "string":
            raise bad(f"{agg} of {fld} is a string: type must be 'string'")


def signal_view(doc: Document) -> dict[str, Any]:
    d = doc.data
    return {"id": doc.doc_id, "name": d["name"], "type": d["type"], "source": d["source"], "window": d["window"],
            "aggregation": d["aggregation"], "field": d.get("field"), "description": d.get("description", ""),
            "rev": doc.rev, "created_at": d["created_at"], "updated_at": d["updated_at"]}


def _typed(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "bool":
        return bool(value)
    return str(value)


class SignalService:
    def __init__(self, store: DocumentStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}

    # -- definitions ----------------------------------------------------------------------
    def create(self, ctx: RequestContext, spec: dict[str, Any]) -> dict[str, Any]:
        check_definition(spec)
        signal_id = "sig_" + secrets.token_hex(6)

        def write(tx: Transaction) -> Document:
            existing = tx.query(Query(paths.signals(ctx.tenant_id, ctx.env), limit=MAX_SIGNALS)).docs
            if any(d.data["name"] == spec["name"] for d in existing):
                raise errors.StudioError(SIGNAL_NAME_TAKEN, f"a signal named {spec['name']!r} exists")
            if len(existing) >= MAX_SIGNALS:
                raise errors.StudioError(SIGNAL_INVALID, f"a tenant keeps at most {MAX_SIGNALS} signals")
            now = utc_now()
            doc = tx.create(paths.signal(ctx.tenant_id, ctx.env, signal_id), {**spec, "created_at": now, "updated_at": now})
            emit(tx, DomainEvent("analytics.signal_created", ctx.tenant_id, ctx.env, doc.path,
                                 {"signal_id": signal_id, "name": spec["name"]}))
            return doc

        return signal_view(self._store.run_transaction(write))

    def list_signals(self, ctx: RequestContext) -> dict[str, Any]:
        page = self._store.query(Query(paths.signals(ctx.tenant_id, ctx.env), limit=MAX_SIGNALS))
        return {"signals": [signal_view(d) for d in sorted(page.docs, key=lambda d: d.data["name"])]}

    def get(self, ctx: RequestContext, signal_id: str) -> dict[str, Any]:
        doc = self._store.get(paths.signal(ctx.tenant_id, ctx.env, signal_id))
        if doc is None:
            raise errors.NotFound("no such signal")
        return signal_view(doc)

    def current_rev(self, ctx: RequestContext, signal_id: str) -> int | None:
        doc = self._store.get(paths.signal(ctx.tenant_id, ctx.env, signal_id))
        return None if doc is None else doc.rev

    def edit(self, ctx: RequestContext, signal_id: str, changes: dict[str, Any], base_rev: int) -> dict[str, Any]:
        def change(doc: Document) -> dict[str, Any]:
            merged = {**doc.data, **changes, "updated_at": utc_now()}
            check_definition(merged)
            return merged

        def write(tx: Transaction) -> Document:
            return repository.update(
                tx, paths.signal(ctx.tenant_id, ctx.env, signal_id), base_rev, what="signal", change=change,
                event=lambda before, after: DomainEvent("analytics.signal_updated", ctx.tenant_id, ctx.env, after.path,
                                                        {"signal_id": signal_id, "fields": sorted(changes)})).after

        return signal_view(self._store.run_transaction(write))

    def delete(self, ctx: RequestContext, signal_id: str, base_rev: int) -> None:
        def write(tx: Transaction) -> None:
            repository.delete(tx, paths.signal(ctx.tenant_id, ctx.env, signal_id), base_rev, what="signal",
                              event=lambda before: DomainEvent("analytics.signal_deleted", ctx.tenant_id, ctx.env,
                                                               before.path, {"signal_id": signal_id}))

        self._store.run_transaction(write)

    def definitions(self, tenant_id: str, env: str, *, fresh: bool = False) -> list[dict[str, Any]]:
        """The tenant's definitions with their rev and id (cached a few seconds per instance)."""
        key = (tenant_id, env)
        now = time.monotonic()
        cached = self._cache.get(key)
        if fresh or cached is None or now - cached[0] > DEFINITIONS_CACHE_S:
            docs = self._store.query(Query(paths.signals(tenant_id, env), limit=MAX_SIGNALS)).docs
            cached = (now, [{**d.data, "id": d.doc_id, "rev": d.rev} for d in docs])
            with self._lock:
                self._cache[key] = cached
        return cached[1]

    # -- values -----------------------------------------------------------------------------
    def apply_event(self, row: dict[str, Any]) -> bool:
        """Fold one stored event into its subject's signals, once per event id. True if anything changed."""
        subject = subject_of(row)
        if subject is None:
            return False
        tenant_id, env = row["tenant_id"], row["env"]
        matching = [d for d in self.definitions(tenant_id, env) if signal_state.matches(d, row)]
        if not matching:
            return False
        path = paths.subject(tenant_id, env, subject)

        def effect(tx: Transaction) -> None:
            doc = tx.get(path)
            states: dict[str, Any] = dict(doc.data.get("states", {})) if doc is not None else {}
            now = datetime.now(UTC)
            for d in matching:
                states[d["id"]] = signal_state.apply(d, states.get(d["id"]), row, now)
            tx.put(path, {"subject_id": subject, "states": states, "updated_at": utc_now()})

        return apply_once(self._store, CONSUMER, str(row["event_id"]), effect)

    def values(self, tenant_id: str, env: str, subject_id: str, *, fresh: bool = True) -> dict[str, Any]:
        doc = self._store.get(paths.subject(tenant_id, env, subject_id))
        states = doc.data.get("states", {}) if doc is not None else {}
        now = datetime.now(UTC)
        values = {d["name"]: _typed(d["type"], signal_state.read(d, states.get(d["id"]), now))
                  for d in self.definitions(tenant_id, env, fresh=fresh)}
        return {"subject_id": subject_id, "values": values,
                "updated_at": doc.data.get("updated_at") if doc is not None else None}



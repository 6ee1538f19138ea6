"""Document store on SQLite (WAL): the embedded default behind ``DocumentStore``.

One file, one connection per thread. Writes run in ``BEGIN IMMEDIATE`` so writers
serialise on SQLite's lock instead of deadlocking; ``synchronous=NORMAL`` in WAL
keeps every acknowledged commit across a process crash (kill -9).
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from studio.adapters.private_files import private_file, tighten
from studio.kernel import errors, logs
from studio.kernel.clock import utc_now as now_rfc3339
from studio.kernel.json_input import finite_only
from studio.kernel.paths import check_collection_path, check_document_path
from studio.kernel.tx_journal import journaled
from studio.ports.store import (
    Change,
    Document,
    OutboxMessage,
    Page,
    Query,
    check_expected,
    decode_page_token,
    encode_page_token,
    parent_of,
)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
  path TEXT PRIMARY KEY, parent TEXT NOT NULL, data TEXT NOT NULL, rev INTEGER NOT NULL,
  create_time TEXT NOT NULL, update_time TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS docs_by_parent ON docs(parent, path);
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL, op TEXT NOT NULL,
  rev INTEGER NOT NULL, data TEXT, time TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS changes_by_path ON changes(path, seq);
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY, topic TEXT NOT NULL, data BLOB NOT NULL, attributes TEXT NOT NULL,
  ordering_key TEXT NOT NULL, created REAL NOT NULL);
"""

_SQL_OPS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_log = logs.get("studio.store.sqlite")




def _encode(data: Mapping[str, Any]) -> str:
    try:
        # allow_nan=False: SQLite's JSON functions refuse "NaN", so one such document would make
        # every query over its collection fail ("malformed JSON").
        return json.dumps(dict(data), separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:
        raise errors.StudioError(errors.INVALID_JSON, "documents hold finite numbers only (NaN and "
                                                      "Infinity are not JSON)") from None


def _json_path(field: str) -> str:
    if not field or any(c in field for c in "'\"[]\\$") or field.startswith("."):
        raise errors.StudioError(errors.BAD_REQUEST, f"invalid field name {field!r}")
    return "$." + field


def _sql_value(value: Any) -> Any:
    # JSON booleans come back from json_extract as 0/1.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return value


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection, store: SqliteStore) -> None:
        self._conn = conn
        self._store = store
        self.wrote = False

    def get(self, path: str) -> Document | None:
        return self._store._read(self._conn, check_document_path(path))

    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        if self.get(path) is not None:
            raise errors.AlreadyExists(f"{path} already exists")
        return self._write(path, data, None)

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document:
        current = self.get(path)
        check_expected(current, expected_rev)
        return self._write(path, data, current)

    def delete(self, path: str, *, expected_rev: int | None = None) -> None:
        current = self.get(path)
        check_expected(current, expected_rev)
        if current is None:
            return
        self._conn.execute("DELETE FROM docs WHERE path = ?", (path,))
        self._conn.execute(
            "INSERT INTO changes(path, op, rev, data, time) VALUES (?, 'delete', ?, NULL, ?)",
            (path, current.rev + 1, now_rfc3339()),
        )
        self.wrote = True

    def query(self, query: Query) -> Page:
        return self._store._query(self._conn, query)

    def emit(self, message: OutboxMessage) -> None:
        self._conn.execute(
            "INSERT INTO outbox(id, topic, data, attributes, ordering_key, created) VALUES (?,?,?,?,?,?)",
            (message.id, message.topic, message.data, json.dumps(dict(message.attributes)),
             message.ordering_key, time.time()),
        )
        self.wrote = True

    def _write(self, path: str, data: Mapping[str, Any], current: Document | None) -> Document:
        stamp = now_rfc3339()
        body = _encode(data)
        rev = 1 if current is None else current.rev + 1
        created = stamp if current is None else current.create_time
        self._conn.execute(
            "INSERT INTO docs(path, parent, data, rev, create_time, update_time) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(path) DO UPDATE SET data=excluded.data, rev=excluded.rev, "
            "update_time=excluded.update_time",
            (path, parent_of(path), body, rev, created, stamp),
        )
        self._conn.execute(
            "INSERT INTO changes(path, op, rev, data, time) VALUES (?, 'put', ?, ?, ?)",
            (path, rev, body, stamp),
        )
        self.wrote = True
        return Document(path, json.loads(body), rev, created, stamp)



class SqliteStore:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000, wake: bool = False) -> None:
        self.path = str(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._changed = threading.Condition()
        self._generation = 0  # bumped by every wake-up, so a wake between check and wait is not lost
        self._hub: Any = None
        self._wake: Any = None
        # Without cross-process wake-ups, other processes' writes are seen by this poll.
        self.poll_s = 0.05
        # 0600 before SQLite opens it (its -wal and -shm take this mode); older -wal/-shm files too.
        private_file(Path(self.path))
        tighten(Path(self.path + "-wal"), Path(self.path + "-shm"))
        self._conn().executescript(_SCHEMA)  # idempotent; executescript commits by itself
        if wake:
            from studio.adapters import process_wake

            if process_wake.supported():
                self._wake = process_wake.ProcessWake(Path(self.path), self._wake_local)
                self.poll_s = 1.0  # only a safety net now: a lost datagram costs at most this

    # -- connections -------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=self._busy_timeout_ms / 1000)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            self._local.conn = conn
        return conn

    @contextmanager
    def _write_conn(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked past busy_timeout
            raise errors.Unavailable("the store is busy: retry") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- reads -------------------------------------------------------------
    def _read(self, conn: sqlite3.Connection, path: str) -> Document | None:
        row = conn.execute(
            "SELECT path, data, rev, create_time, update_time FROM docs WHERE path = ?", (path,)
        ).fetchone()
        return None if row is None else Document(row[0], json.loads(row[1]), row[2], row[3], row[4])

    def get(self, path: str) -> Document | None:
        return self._read(self._conn(), check_document_path(path))

    def get_many(self, paths: Sequence[str]) -> list[Document | None]:
        checked = [check_document_path(p) for p in paths]
        found: dict[str, Document] = {}
        for start in range(0, len(checked), 500):  # SQLite caps bound parameters per statement
            chunk = checked[start:start + 500]
            rows = self._conn().execute(
                "SELECT path, data, rev, create_time, update_time FROM docs WHERE path IN "
                f"({','.join('?' * len(chunk))})", chunk).fetchall()
            found.update((r[0], Document(r[0], json.loads(r[1]), r[2], r[3], r[4])) for r in rows)
        return [found.get(p) for p in checked]

    def query(self, query: Query) -> Page:
        return self._query(self._conn(), query)

    def _query(self, conn: sqlite3.Connection, query: Query) -> Page:
        try:
            return self._query_once(conn, query)
        except sqlite3.OperationalError as exc:
            if "malformed JSON" not in str(exc) or not self._repair(conn, check_collection_path(query.collection)):
                raise
            return self._query_once(conn, query)

    def _repair(self, conn: sqlite3.Connection, collection: str) -> int:
        """Rewrite the documents of ``collection`` that SQLite cannot read as JSON: ones stored
        with NaN or Infinity before writes refused them. Those become null (what JSON can say);
        rev and the change feed stay as they were: the document did not change, its spelling did."""
        rows = conn.execute("SELECT path, data FROM docs WHERE parent = ? AND NOT json_valid(data)",
                            (collection,)).fetchall()
        fixed = []
        for path, data in rows:
            try:
                fixed.append((_encode(finite_only(json.loads(data))), path, data))
            except (ValueError, errors.StudioError):  # not even Python's JSON: leave it, the query still fails
                continue
        if fixed:
            if conn.in_transaction:
                conn.executemany("UPDATE docs SET data = ? WHERE path = ? AND data = ?", fixed)
            else:
                with self._write_conn() as wconn:
                    wconn.executemany("UPDATE docs SET data = ? WHERE path = ? AND data = ?", fixed)
            _log.warning("repaired %d document(s) holding NaN/Infinity under %s", len(fixed), collection)
        return len(fixed)

    def _query_once(self, conn: sqlite3.Connection, query: Query) -> Page:
        collection = check_collection_path(query.collection)
        if not 1 <= query.limit <= 10_000:
            raise errors.StudioError(errors.BAD_REQUEST, "limit must be between 1 and 10000")
        where = ["parent = ?"]
        params: list[Any] = [collection]
        for flt in query.filters:
            expr = f"json_extract(data, '{_json_path(flt.field)}')"
            if flt.op == "in":
                values = list(flt.value)
                if not values:
                    return Page([], None)
                where.append(f"{expr} IN ({','.join('?' * len(values))})")
                params.extend(_sql_value(v) for v in values)
            elif flt.op == "array_contains":
                where.append(f"EXISTS (SELECT 1 FROM json_each(data, '{_json_path(flt.field)}') "
                             "WHERE json_each.value = ?)")
                params.append(_sql_value(flt.value))
            elif flt.op in _SQL_OPS:
                where.append(f"{expr} {_SQL_OPS[flt.op]} ?")
                params.append(_sql_value(flt.value))
            else:
                raise errors.StudioError(errors.BAD_REQUEST, f"unsupported operator {flt.op!r}")
        order = [(f"json_extract(data, '{_json_path(f)}')", d) for f, d in query.order_by]
        for expr, _ in order:  # Firestore leaves out documents missing an order field
            where.append(f"{expr} IS NOT NULL")
        order.append(("path", order[-1][1] if order else "asc"))
        if query.cursor:
            cond, cursor_params = _after_cursor(order, decode_page_token(query.cursor, len(order)))
            where.append(cond)
            params.extend(cursor_params)
        order_sql = ", ".join(f"{e} {'DESC' if d == 'desc' else 'ASC'}" for e, d in order)
        select = ", ".join(e for e, _ in order)
        rows = conn.execute(
            f"SELECT path, data, rev, create_time, update_time, {select} FROM docs "  # noqa: S608
            f"WHERE {' AND '.join(where)} ORDER BY {order_sql} LIMIT ?",
            (*params, query.limit + 1),
        ).fetchall()
        docs = [Document(r[0], json.loads(r[1]), r[2], r[3], r[4]) for r in rows[: query.limit]]
        next_cursor = None
        if len(rows) > query.limit:
            next_cursor = encode_page_token(list(rows[query.limit - 1][5:]))
        return Page(docs, next_cursor)

    # -- writes ------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[_SqliteTransaction]:
        with self._write_conn() as conn:
            tx = _SqliteTransaction(conn, self)
            yield tx
        if tx.wrote:
            self._notify()

    def run_transaction(self, fn: Callable[[_SqliteTransaction], T]) -> T:
        step = journaled(fn)  # inside a keyed request: the Idempotency-Key's record commits with it
        with self.transaction() as tx:
            return step(tx)

    def create(self, path: str, data: Mapping[str, Any]) -> Document:
        return self.run_transaction(lambda tx: tx.create(check_document_path(path), data))

    def put(self, path: str, data: Mapping[str, Any], *, expected_rev: int | None = None) -> Document:
        return self.run_transaction(lambda tx: tx.put(check_document_path(path), data, expected_rev=expected_rev))

    def delete(self, path: str, *, expected_rev: int | None = None) -> None:
        self.run_transaction(lambda tx: tx.delete(check_document_path(path), expected_rev=expected_rev))

    # -- change feed -------------------------------------------------------
    def changes(self, prefix: str, after: int = 0, limit: int = 500) -> list[Change]:
        prefix = prefix.strip("/")
        if not prefix:  # the whole feed
            rows = self._conn().execute(
                "SELECT seq, path, op, rev, data, time FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit)).fetchall()
            return [Change(r[0], r[1], r[2], r[3], None if r[4] is None else json.loads(r[4]), r[5]) for r in rows]
        rows = self._conn().execute(
            "SELECT seq, path, op, rev, data, time FROM changes WHERE seq > ? "
            "AND (path = ? OR (path >= ? AND path < ?)) ORDER BY seq LIMIT ?",
            (after, prefix, prefix + "/", prefix + "/\U0010ffff", limit),
        ).fetchall()
        return [Change(r[0], r[1], r[2], r[3], None if r[4] is None else json.loads(r[4]), r[5]) for r in rows]

    def watch(self, collection: str, callback: Callable[[Change], None], *, after: int | None = None) -> Any:
        from studio.adapters.sqlite_watch import SqliteWatchHub

        if self._hub is None:
            self._hub = SqliteWatchHub(self, self.poll_s)
        return self._hub.watch(collection, callback, after)

    def latest_seq(self) -> int:
        row = self._conn().execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
        return int(row[0])

    def _wake_local(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def _notify(self) -> None:
        self._wake_local()
        if self._wake is not None:
            self._wake.ring()

    def wait_for_change(self, after: int, timeout: float) -> int:
        """In-process writers wake waiters at once; other processes too when waking is on
        (process_wake.py), else they are seen by polling."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                seen = self._generation
            latest = self.latest_seq()
            remaining = deadline - time.monotonic()
            if latest > after or remaining <= 0:
                return latest
            with self._changed:
                if self._generation == seen:
                    self._changed.wait(min(remaining, self.poll_s))

    # -- outbox ------------------------------------------------------------
    def outbox_pending(self, limit: int = 100) -> list[OutboxMessage]:
        rows = self._conn().execute(
            "SELECT id, topic, data, attributes, ordering_key FROM outbox ORDER BY created, id LIMIT ?",
            (limit,),
        ).fetchall()
        return [OutboxMessage(r[0], r[1], bytes(r[2]), json.loads(r[3]), r[4]) for r in rows]

    def outbox_done(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._write_conn() as conn:
            conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])


def _after_cursor(order: Sequence[tuple[str, str]], values: list[Any]) -> tuple[str, list[Any]]:
    """Lexicographic 'strictly after' over the order columns: (a > x) OR (a = x AND b > y) ..."""
    clauses, params = [], []
    for i, (expr, direction) in enumerate(order):
        parts = [f"{order[j][0]} = ?" for j in range(i)]
        parts.append(f"{expr} {'<' if direction == 'desc' else '>'} ?")
        clauses.append("(" + " AND ".join(parts) + ")")
        params.extend(values[: i + 1])
    return "(" + " OR ".join(clauses) + ")", params

"""Durable single-machine bus on SQLite: the local stand-in for Pub/Sub.

Schema, one row per fact:

* ``messages``: every published message once (``seq`` keeps publish order).
* ``subscriptions``: declared subscriptions and their delivery settings.
* ``deliveries``: one row per (subscription, message), made at publish time for every
  subscription of the topic. ``state`` is pending | in_flight | acked | dead; ``visible_at`` is
  when the row may be leased: the backoff end for pending rows, the lease end for in-flight
  ones. So an expired lease needs no sweeper: ``state IN (pending, in_flight) AND
  visible_at <= now`` is the whole "deliverable" test, and it survives crashes and restarts.

Every write is one ``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so
two pullers never lease the same row); WAL lets readers run meanwhile and ``busy_timeout``
makes other processes wait for the lock instead of failing.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.adapters.private_files import private_file, tighten
from studio.kernel import errors
from studio.ports.bus import BusMessage, Delivery

_ACTIVE = "('pending', 'in_flight')"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    data         BLOB NOT NULL,
    attributes   TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    publish_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    name              TEXT PRIMARY KEY,
    topic             TEXT NOT NULL,
    max_attempts      INTEGER NOT NULL,
    ack_deadline_s    REAL NOT NULL,
    dead_letter_topic TEXT
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic);
CREATE TABLE IF NOT EXISTS deliveries (
    subscription TEXT NOT NULL,
    seq          INTEGER NOT NULL REFERENCES messages (seq),
    ordering_key TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'acked', 'dead')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    visible_at   REAL NOT NULL,
    last_error   TEXT,
    PRIMARY KEY (subscription, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_active
    ON deliveries (subscription, seq, visible_at) WHERE state IN {_ACTIVE};
CREATE INDEX IF NOT EXISTS deliveries_key_head
    ON deliveries (subscription, ordering_key, seq) WHERE state IN {_ACTIVE};
"""

_MESSAGE_COLUMNS = "m.message_id, m.topic, m.data, m.attributes, m.ordering_key, m.publish_time"

# Deliverable rows; for an ordering key only its oldest unfinished message qualifies, so a
# second message of a key is never leased while the first is in flight or backing off.
# The partial indexes hold only unfinished rows, so acked history does not slow a pull.
_READY = f"""
SELECT d.seq, d.attempt, {_MESSAGE_COLUMNS}
FROM deliveries d INDEXED BY deliveries_active JOIN messages m ON m.seq = d.seq
WHERE d.subscription = :sub AND d.state IN {_ACTIVE} AND d.visible_at <= :now
  AND (d.ordering_key = '' OR d.seq = (
        SELECT MIN(h.seq) FROM deliveries h INDEXED BY deliveries_key_head
        WHERE h.subscription = :sub AND h.ordering_key = d.ordering_key
          AND h.state IN {_ACTIVE}))
ORDER BY d.seq
LIMIT :limit
"""


def _rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _message(row: tuple[str, str, bytes, str, str, str]) -> BusMessage:
    message_id, topic, data, attributes, ordering_key, publish_time = row
    return BusMessage(message_id, topic, bytes(data), json.loads(attributes), ordering_key, publish_time)


class SqliteBus:
    """``studio.ports.bus.Bus`` on one SQLite file, safe across threads and processes."""

    def __init__(
        self,
        path: str | Path,
        *,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        busy_timeout_ms: int = 10_000,
        wake: bool = False,
    ) -> None:
        self.path = Path(path)
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # In-process writers queue on this lock instead of spinning in SQLite's busy handler.
        self._write_lock = threading.Lock()
        self._published = threading.Condition()
        self._generation = 0  # bumped on every local publish; lets wait() skip lost wake-ups
        tighten(Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))  # left by an older version
        # 0600 before SQLite opens it (its -wal and -shm take this mode). Once, here: opening and closing
        # the file again once SQLite holds locks on it would drop them all (POSIX locks are per process),
        # and a new thread's connection in one process would corrupt what another process sees.
        private_file(self.path)
        with self._tx() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
        self._wake: Any = None
        if wake:  # other processes' publishes wake this one's waiters too (process_wake.py)
            from studio.adapters import process_wake

            if process_wake.supported():
                self._wake = process_wake.ProcessWake(self.path, self._woken)

    # -- connections and transactions -------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN IMMEDIATE/COMMIT ourselves.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL: a committed transaction survives a process crash (kill -9);
            # only an OS crash or power loss may drop the last few commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        self._local.published = False
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # also when COMMIT itself failed
                    conn.execute("ROLLBACK")
                raise
        if self._local.published:  # wake waiters only once the rows are visible
            self._woken()
            if self._wake is not None:
                self._wake.ring()

    def _woken(self) -> None:
        with self._published:
            self._generation += 1
            self._published.notify_all()

    def close(self) -> None:
        """Close every connection this instance opened (call once no thread uses it)."""
        with self._connections_lock:
            conns, self._connections = self._connections, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
        if self._wake is not None:
            self._wake.close()
            self._wake = None

    # -- the port ---------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        data: bytes,
        attributes: Mapping[str, str] | None = None,
        ordering_key: str = "",
    ) -> str:
        if not isinstance(data, bytes | bytearray):
            raise TypeError("data must be bytes")
        attrs = dict(attributes or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()):
            raise TypeError("attributes must map str to str")
        with self._tx() as conn:
            return self._publish_tx(conn, topic, bytes(data), attrs, ordering_key)

    def _publish_tx(
        self, conn: sqlite3.Connection, topic: str, data: bytes, attrs: dict[str, str], key: str
    ) -> str:
        now = self._clock()
        message_id = uuid.uuid4().hex
        seq = conn.execute(
            "INSERT INTO messages (message_id, topic, data, attributes, ordering_key, publish_time)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (message_id, topic, data, json.dumps(attrs, sort_keys=True), key, _rfc3339(now)),
        ).lastrowid
        # Fan-out: only subscriptions that exist now get the message (Pub/Sub semantics).
        conn.execute(
            "INSERT INTO deliveries (subscription, seq, ordering_key, state, visible_at)"
            " SELECT name, ?, ?, 'pending', ? FROM subscriptions WHERE topic = ?",
            (seq, key, now, topic),
        )
        self._local.published = True
        return message_id

    def subscribe(
        self,
        subscription: str,
        topic: str,
        *,
        max_attempts: int = 5,
        ack_deadline_s: float = 30.0,
        dead_letter_topic: str | None = None,
    ) -> None:
        if max_attempts < 1 or ack_deadline_s <= 0:
            raise ValueError("max_attempts must be >= 1 and ack_deadline_s > 0")
        with self._tx() as conn:
            row = conn.execute("SELECT topic FROM subscriptions WHERE name = ?", (subscription,)).fetchone()
            if row is not None and row[0] != topic:
                raise errors.AlreadyExists(f"subscription {subscription} is bound to topic {row[0]}")
            conn.execute(
                "INSERT INTO subscriptions (name, topic, max_attempts, ack_deadline_s, dead_letter_topic)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
                " max_attempts = excluded.max_attempts, ack_deadline_s = excluded.ack_deadline_s,"
                " dead_letter_topic = excluded.dead_letter_topic",
                (subscription, topic, max_attempts, ack_deadline_s, dead_letter_topic),
            )

    def _settings(self, conn: sqlite3.Connection, subscription: str) -> tuple[int, float, str | None]:
        row = conn.execute(
            "SELECT max_attempts, ack_deadline_s, dead_letter_topic FROM subscriptions WHERE name = ?",
            (subscription,),
        ).fetchone()
        if row is None:
            raise errors.NotFound(f"subscription {subscription} does not exist")
        max_attempts, ack_deadline_s, dead_letter_topic = row
        return int(max_attempts), float(ack_deadline_s), dead_letter_topic

    def pull(self, subscription: str, max_messages: int = 10) -> list[Delivery]:
        self._local.seen = self._generation  # wait() returns at once if a publish follows
        with self._tx() as conn:
            max_attempts, deadline_s, dlt = self._settings(conn, subscription)
            now = self._clock()
            # A lease that expired on the last allowed attempt is a failed final attempt.
            exhausted = conn.execute(
                "SELECT seq FROM deliveries INDEXED BY deliveries_active WHERE subscription = ?"
                f" AND state IN {_ACTIVE} AND state = 'in_flight' AND visible_at <= ? AND attempt >= ?",
                (subscription, now, max_attempts),
            ).fetchall()
            for (seq,) in exhausted:
                self._dead_letter(conn, subscription, seq, "ack deadline exceeded", dlt)
            rows = conn.execute(_READY, {"sub": subscription, "now": now, "limit": max_messages}).fetchall()
            out = []
            for seq, attempt, *message in rows:
                conn.execute(
                    "UPDATE deliveries SET state = 'in_flight', attempt = ?, visible_at = ?"
                    " WHERE subscription = ? AND seq = ?",
                    (attempt + 1, now + deadline_s, subscription, seq),
                )
                out.append(Delivery(_message(tuple(message)), subscription, attempt + 1))
        return out

    def _current(self, conn: sqlite3.Connection, delivery: Delivery) -> int | None:
        """seq of the delivery if this exact attempt still holds the message, else None."""
        row = conn.execute(
            "SELECT d.seq FROM deliveries d JOIN messages m ON m.seq = d.seq"
            " WHERE d.subscription = ? AND m.message_id = ? AND d.attempt = ? AND d.state = 'in_flight'",
            (delivery.subscription, delivery.message.message_id, delivery.attempt),
        ).fetchone()
        return None if row is None else row[0]

    def ack(self, delivery: Delivery) -> None:
        with self._tx() as conn:
            seq = self._current(conn, delivery)
            if seq is not None:  # a stale or repeated ack is a no-op, as in Pub/Sub
                conn.execute(
                    "UPDATE deliveries SET state = 'acked' WHERE subscription = ? AND seq = ?",
                    (delivery.subscription, seq),
                )

    def nack(self, delivery: Delivery, error: str) -> None:
        with self._tx() as conn:
            max_attempts, _, dlt = self._settings(conn, delivery.subscription)
            seq = self._current(conn, delivery)
            if seq is None:
                return
            if delivery.attempt >= max_attempts:
                self._dead_letter(conn, delivery.subscription, seq, error, dlt)
                return
            delay = min(self._backoff_cap_s, self._backoff_base_s * 2 ** (delivery.attempt - 1))
            conn.execute(
                "UPDATE deliveries SET state = 'pending', visible_at = ?, last_error = ?"
                " WHERE subscription = ? AND seq = ?",
                (self._clock() + delay, error, delivery.subscription, seq),
            )

    def _dead_letter(
        self, conn: sqlite3.Connection, subscription: str, seq: int, error: str, dlt: str | None
    ) -> None:
        conn.execute(
            "UPDATE deliveries SET state = 'dead', last_error = ? WHERE subscription = ? AND seq = ?",
            (error, subscription, seq),
        )
        if dlt:
            row = conn.execute(
                "SELECT m.data, m.attributes, m.ordering_key, d.attempt FROM messages m"
                " JOIN deliveries d ON d.seq = m.seq WHERE d.subscription = ? AND m.seq = ?",
                (subscription, seq),
            ).fetchone()
            attrs = json.loads(row[1])
            # The attribute names Pub/Sub adds to dead-lettered messages.
            attrs["CloudPubSubDeadLetterSourceSubscription"] = subscription
            attrs["CloudPubSubDeadLetterSourceDeliveryCount"] = str(row[3])
            self._publish_tx(conn, dlt, bytes(row[0]), attrs, row[2])

    def dead_letters(self, subscription: str) -> list[tuple[BusMessage, str]]:
        conn = self._conn()
        self._settings(conn, subscription)
        rows = conn.execute(
            f"SELECT {_MESSAGE_COLUMNS}, d.last_error FROM deliveries d JOIN messages m ON m.seq = d.seq"
            " WHERE d.subscription = ? AND d.state = 'dead' ORDER BY d.seq", (subscription,)
        ).fetchall()
        return [(_message(row[:6]), row[6] or "") for row in rows]

    def stats(self, subscription: str) -> dict[str, int]:
        conn = self._conn()
        self._settings(conn, subscription)
        row = conn.execute(
            "SELECT"
            " COALESCE(SUM(state = 'pending' OR (state = 'in_flight' AND visible_at <= :now)), 0),"
            " COALESCE(SUM(state = 'in_flight' AND visible_at > :now), 0),"
            " COALESCE(SUM(state = 'acked'), 0),"
            " COALESCE(SUM(state = 'dead'), 0),"
            " COALESCE(SUM(MAX(attempt - 1, 0)), 0)"
            " FROM deliveries WHERE subscription = :sub",
            {"sub": subscription, "now": self._clock()},
        ).fetchone()
        keys = ("pending", "in_flight", "acked", "dead_lettered", "redelivered")
        return dict(zip(keys, map(int, row), strict=True))

    def wait(self, timeout: float) -> None:
        """Block up to timeout; return early when this process publishes.

        A publish after this thread's last pull counts, so pull-then-wait loses no wake-up.
        Publishes from other processes are seen only with waking on; else this sleeps up to timeout.
        """
        seen = getattr(self._local, "seen", None)
        with self._published:
            if seen is None:
                seen = self._generation
            self._published.wait_for(lambda: self._generation != seen, timeout)
        self._local.seen = self._generation

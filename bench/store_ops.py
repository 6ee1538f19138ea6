"""SQLite store: write, read, and a 1,000-document query, with p50/p99.

``studio.adapters.sqlite_store.SqliteStore`` on a temp file vs raw ``sqlite3`` on another
file in the same directory with the same settings (WAL, synchronous=NORMAL, autocommit:
one transaction per statement). The raw baseline keeps a JSON blob per path with its
parent (same primary key and parent index as the store), and filters/sorts with the
same ``json_extract`` expressions, so the ratio is the store's own overhead: path checks,
``BEGIN IMMEDIATE`` + read-before-write + the change-feed row on writes, ``Document``
objects, cursors. Store and raw calls alternate so drift hits both alike.

The issue sets no target for these: the ratios are reported, not judged (INFO).
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Result, fmt_num, fmt_ratio, heading, percentile, result_rows, table

WRITES = 2000
READS = 2000
SEED_DOCS = 5000
QUERY_RUNS = 50
QUERY_LIMIT = 1000
SCAN_RUNS = 20
PAGE = 500


def _doc(i: int, rng: random.Random) -> dict[str, Any]:
    return {"n": i, "status": "open" if i % 2 == 0 else "closed", "score": round(rng.random(), 9),
            "title": f"document number {i}", "owner": f"u_{i % 37:04d}", "tags": ["a", "b", f"t{i % 11}"]}


class Raw:
    """The baseline: plain INSERT/SELECT of a JSON blob."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("CREATE TABLE docs (path TEXT PRIMARY KEY, parent TEXT NOT NULL, data TEXT NOT NULL)")
        self.conn.execute("CREATE INDEX docs_by_parent ON docs(parent, path)")

    def put(self, path: str, data: dict[str, Any]) -> None:
        self.conn.execute("INSERT INTO docs(path, parent, data) VALUES (?,?,?) "
                          "ON CONFLICT(path) DO UPDATE SET data=excluded.data",
                          (path, path.rsplit("/", 1)[0], json.dumps(data, separators=(",", ":"))))

    def seed(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
        self.conn.execute("BEGIN")
        for path, data in rows:
            self.put(path, data)
        self.conn.execute("COMMIT")

    def get(self, path: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT data FROM docs WHERE path = ?", (path,)).fetchone()
        return None if row is None else json.loads(row[0])

    def query(self, parent: str, status: str, limit: int) -> list[tuple[str, dict[str, Any]]]:
        rows = self.conn.execute(
            "SELECT path, data FROM docs WHERE parent = ? AND json_extract(data, '$.status') = ? "
            "ORDER BY json_extract(data, '$.score') DESC, path DESC LIMIT ?", (parent, status, limit)).fetchall()
        return [(r[0], json.loads(r[1])) for r in rows]

    def scan(self, parent: str, page: int) -> int:
        """Keyset pagination over (score desc, path desc), as the store's cursors do."""
        seen, after = 0, None
        while True:
            if after is None:
                rows = self.conn.execute(
                    "SELECT path, data, json_extract(data, '$.score') FROM docs WHERE parent = ? "
                    "ORDER BY json_extract(data, '$.score') DESC, path DESC LIMIT ?", (parent, page)).fetchall()
            else:
                rows = self.conn.execute(
                    "SELECT path, data, json_extract(data, '$.score') FROM docs WHERE parent = ? AND "
                    "(json_extract(data, '$.score') < ? OR (json_extract(data, '$.score') = ? AND path < ?)) "
                    "ORDER BY json_extract(data, '$.score') DESC, path DESC LIMIT ?",
                    (parent, after[0], after[0], after[1], page)).fetchall()
            seen += len([json.loads(r[1]) for r in rows])
            if len(rows) < page:
                return seen
            after = (rows[-1][2], rows[-1][0])

    def close(self) -> None:
        self.conn.close()


def _time(fn: Callable[[], Any], out: list[float]) -> Any:
    started = time.perf_counter()
    value = fn()
    out.append(time.perf_counter() - started)
    return value


def run(verbose: bool = False) -> list[Result]:
    from studio.adapters.sqlite_store import SqliteStore
    from studio.ports.store import Filter, Query, iter_all

    heading("store ops: SqliteStore vs raw sqlite3 (WAL, synchronous=NORMAL)")
    rng = random.Random(42)
    samples: dict[str, dict[str, list[float]]] = {}

    def pair(name: str) -> tuple[list[float], list[float]]:
        samples[name] = {"store": [], "raw": []}
        return samples[name]["store"], samples[name]["raw"]

    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        store = SqliteStore(Path(tmp) / "store.db")
        raw = Raw(Path(tmp) / "raw.db")
        try:
            # writes: one document per transaction, new paths
            s_w, r_w = pair("write (put, new doc)")
            paths = [f"writes/w{i:05d}" for i in range(WRITES)]
            for i, path in enumerate(paths):
                data = _doc(i, rng)
                _time(lambda p=path, d=data: store.put(p, d), s_w)
                _time(lambda p=path, d=data: raw.put(p, d), r_w)

            # reads of what was written, in random order
            s_r, r_r = pair("read (get)")
            order = paths[:READS]
            rng.shuffle(order)
            for path in order:
                doc = _time(lambda p=path: store.get(p), s_r)
                data = _time(lambda p=path: raw.get(p), r_r)
                if doc is None or data is None or doc.data != data:
                    raise RuntimeError(f"read mismatch at {path}")

            # a collection of 5,000 documents for the query and the scan (seeding is not timed)
            seed = [(f"items/i{i:05d}", _doc(i, rng)) for i in range(SEED_DOCS)]
            with store.transaction() as tx:
                for path, data in seed:
                    tx.put(path, data)
            raw.seed(seed)

            s_q, r_q = pair(f"query {QUERY_LIMIT} docs (filter + order_by + limit)")
            query = Query("items", [Filter("status", "==", "open")], [("score", "desc")], limit=QUERY_LIMIT)
            for _ in range(QUERY_RUNS):
                page = _time(lambda: store.query(query), s_q)
                rows = _time(lambda: raw.query("items", "open", QUERY_LIMIT), r_q)
                if len(page.docs) != QUERY_LIMIT or [d.path for d in page.docs] != [p for p, _ in rows]:
                    raise RuntimeError("the store and the raw query disagree")

            s_s, r_s = pair(f"paged scan {SEED_DOCS} docs ({PAGE}/page, cursors)")
            scan = Query("items", order_by=[("score", "desc")], limit=PAGE)
            for _ in range(SCAN_RUNS):
                n_store = _time(lambda: sum(1 for _ in iter_all(store, scan)), s_s)
                n_raw = _time(lambda: raw.scan("items", PAGE), r_s)
                if n_store != SEED_DOCS or n_raw != SEED_DOCS:
                    raise RuntimeError(f"scan saw {n_store} (store) / {n_raw} (raw) of {SEED_DOCS} docs")
        finally:
            store.close()
            raw.close()

    counts = {name: len(v["store"]) for name, v in samples.items()}
    rows, results = [], []
    for name, both in samples.items():
        st, rw = both["store"], both["raw"]
        unit, scale = ("ms", 1000.0) if percentile(st, 50) >= 0.001 else ("us", 1e6)
        p50, p99 = percentile(st, 50) * scale, percentile(st, 99) * scale
        b50, b99 = percentile(rw, 50) * scale, percentile(rw, 99) * scale
        rows.append([name, str(counts[name]), fmt_num(p50, unit), fmt_num(p99, unit), fmt_num(b50, unit),
                     fmt_num(b99, unit), fmt_ratio(p50 / b50)])
        results.append(Result("store_ops", f"{name} p50", p50, unit, b50, "raw sqlite3", None,
                              extra={"p99": p99, "raw_p99": b99, "runs": counts[name]}))
        results.append(Result("store_ops", f"{name} p99", p99, unit, b99, "raw sqlite3", None))
    print(table(["operation", "runs", "store p50", "store p99", "raw p50", "raw p99", "p50 ratio"], rows),
          flush=True)
    print("  goal: none set by the issue for the store; reported, not judged", flush=True)
    return results


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(result_rows(run()))


if __name__ == "__main__":
    main()

"""Contract-suite latency per operation, emulator vs SQLite (embedded), side by side.

Each port's embedded adapter against its Google Cloud adapter on the local stand-in the
contract suites use (tests/contract/test_*_{firestore,pubsub,gcs,gcp}.py):

  store    SqliteStore (temp file)        vs FirestoreStore on Google's Firestore emulator
  bus      SqliteBus (temp file)          vs PubsubBus on Google's Pub/Sub emulator
  blobs    LocalBlobStore (temp dir)      vs GcsBlobStore on fake-gcs-server (memory backend)
  secrets  LocalSecretStore (temp file)   vs SecretManagerStore over REST on
           tests/support/fake_secret_manager.py: a fake at the edge (Secret Manager has no
           emulator); it runs in this process (werkzeug, threaded), so it shares our GIL

Operations: store get / create / put (update with expected_rev) / query (filter + order,
20 of 40 documents) / run_transaction (2 reads, 1 write); bus publish / pull(1) + ack; blobs
put 4 KiB / get 4 KiB; secrets put (a new version) / get (latest). WARMUP untimed calls, then
ITERATIONS timed ones, embedded and emulator calls alternating (order flipped each
iteration) so drift hits both alike; p50 and p99 per side.

Emulator latencies are loopback round trips to a local JVM/Go process, not Google's
service: they show the client libraries' per-call cost plus the emulator's, not production
latency. The issue sets no goal here: reported (INFO).
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Result, fmt_num, fmt_ratio, heading, percentile, result_rows, table
from bench.gcp_emulators import Emulators, describe, running

WARMUP = 20
ITERATIONS = 200
PROJECT = "bench-contract"
BLOB = os.urandom(4096)
QUERY_DOCS, QUERY_MATCH = 40, 20
EMPTY_PULLS: dict[str, int] = {}  # bus class -> pulls that came back empty (retried inside the timed call)


@dataclass
class Pair:
    """One port: the embedded adapter's and the emulator's callables per operation (argument: iteration)."""

    port: str
    embedded_name: str
    emulator_name: str
    ops: dict[str, tuple[Callable[[int], Any], Callable[[int], Any]]] = field(default_factory=dict)


# -- the ports --------------------------------------------------------------------------------


def _store_ops(store: Any) -> dict[str, Callable[[int], Any]]:
    from studio.ports.store import Filter, Query

    for n in range(QUERY_DOCS):
        store.put(f"bench/q/items/d{n:03d}", {"n": n, "status": "open" if n % 2 else "closed", "score": n * 7 % 40})
    store.put("bench/g/items/doc", {"title": "read me", "n": 1, "tags": ["a", "b"]})
    store.put("bench/tx/items/guard", {"open": True, "step": 1})
    store.put("bench/tx/items/counter", {"n": 0})
    rev = {"put": store.put("bench/p/items/doc", {"n": 0}).rev}
    query = Query("bench/q/items", [Filter("status", "==", "open")], [("score", "desc")], limit=100)
    if len(store.query(query).docs) != QUERY_MATCH:
        raise RuntimeError(f"{type(store).__name__}: the query did not return {QUERY_MATCH} documents")

    def put(i: int) -> None:
        rev["put"] = store.put("bench/p/items/doc", {"n": i, "note": "updated"}, expected_rev=rev["put"]).rev

    def transaction(i: int) -> None:
        def fn(tx: Any) -> None:
            guard = tx.get("bench/tx/items/guard")  # only read: validated at commit
            counter = tx.get("bench/tx/items/counter")  # read, then written
            tx.put("bench/tx/items/counter", {"n": counter.data["n"] + guard.data["step"]},
                   expected_rev=counter.rev)

        store.run_transaction(fn)

    return {
        "get": lambda i: store.get("bench/g/items/doc"),
        "create": lambda i: store.create(f"bench/c/items/d{i:05d}", {"n": i, "title": "new"}),
        "put (expected_rev)": put,
        f"query (filter + order, {QUERY_MATCH} docs)": lambda i: store.query(query),
        "run_transaction (2 reads, 1 write)": transaction,
    }


def _bus_ops(bus: Any) -> dict[str, Callable[[int], Any]]:
    bus.subscribe("bench-sub", "bench-topic")
    name = type(bus).__name__
    EMPTY_PULLS[name] = 0

    def pull_ack(i: int) -> None:
        while True:  # publish filled the backlog; an empty pull (not seen so far) is retried and timed
            got = bus.pull("bench-sub", max_messages=1)
            if got:
                bus.ack(got[0])
                return
            EMPTY_PULLS[name] += 1
            if EMPTY_PULLS[name] > 1000:
                raise RuntimeError(f"{name}: the backlog ran dry")

    return {"publish": lambda i: bus.publish("bench-topic", b"m" * 256, {"i": str(i)}), "pull(1) + ack": pull_ack}


def _blob_ops(blobs: Any) -> dict[str, Callable[[int], Any]]:
    blobs.put("bench-blobs", "read/me", BLOB)

    def get(i: int) -> None:
        data, _ = blobs.get("bench-blobs", "read/me")
        if len(data) != len(BLOB):
            raise RuntimeError(f"{type(blobs).__name__}: got {len(data)} bytes")

    return {"put 4 KiB": lambda i: blobs.put("bench-blobs", f"put/o{i:05d}", BLOB), "get 4 KiB": get}


def _secret_ops(secrets: Any) -> dict[str, Callable[[int], Any]]:
    secrets.put("bench-secret", os.urandom(32))
    return {"put (new version)": lambda i: secrets.put("bench-secret", os.urandom(32)),
            "get (latest)": lambda i: secrets.get("bench-secret")}


@contextmanager
def pairs(emulators: Emulators, tmp: Path) -> Iterator[tuple[list[Pair], dict[str, str]]]:
    """Every port whose stand-in is running, adapters built and seeded; everything closed on exit."""
    out: list[Pair] = []
    skipped: dict[str, str] = {}
    with ExitStack() as stack:
        from studio.adapters.local_blobs import LocalBlobStore
        from studio.adapters.local_secrets import LocalSecretStore
        from studio.adapters.sqlite_bus import SqliteBus
        from studio.adapters.sqlite_store import SqliteStore

        if emulators.firestore is None:
            skipped["store"] = f"Firestore emulator: {emulators.skipped.get('firestore')}"
        else:
            from studio.adapters.firestore_store import FirestoreStore

            sqlite = SqliteStore(tmp / "store.db")
            stack.callback(sqlite.close)
            client = emulators.firestore.client(PROJECT)
            firestore = FirestoreStore(PROJECT, client=client)
            stack.callback(firestore.close)
            out.append(_pair("store", "SqliteStore", "Firestore emulator", _store_ops(sqlite), _store_ops(firestore)))

        if emulators.pubsub is None:
            skipped["bus"] = f"Pub/Sub emulator: {emulators.skipped.get('pubsub')}"
        else:
            from studio.adapters.pubsub_bus import PubsubBus

            sqlite_bus = SqliteBus(tmp / "bus.db")
            stack.callback(sqlite_bus.close)
            publisher, subscriber = emulators.pubsub.clients()
            stack.callback(subscriber.close)
            stack.callback(publisher.stop)
            pubsub = PubsubBus(PROJECT, publisher=publisher, subscriber=subscriber, create_missing=True,
                               name_prefix=f"b{uuid.uuid4().hex[:8]}-")
            stack.callback(pubsub.close)
            out.append(_pair("bus", "SqliteBus", "Pub/Sub emulator", _bus_ops(sqlite_bus), _bus_ops(pubsub)))

        if emulators.gcs is None:
            skipped["blobs"] = f"fake-gcs-server: {emulators.skipped.get('gcs')}"
        else:
            from studio.adapters.gcs_blobs import GcsBlobStore

            bucket = f"bench-{uuid.uuid4().hex[:10]}"
            emulators.gcs.create_bucket(bucket)
            local = LocalBlobStore(tmp / "blobs", base_url="http://127.0.0.1:9", signing_key=b"k" * 32)
            gcs = GcsBlobStore(PROJECT, api_endpoint=emulators.gcs.url, bucket_names={"bench-blobs": bucket},
                               timeout_s=10)
            out.append(_pair("blobs", "LocalBlobStore", "fake-gcs-server", _blob_ops(local), _blob_ops(gcs)))

        try:
            from google.auth.credentials import AnonymousCredentials

            from studio.adapters.secret_manager import SecretManagerStore
            from tests.support.fake_secret_manager import FakeSecretManager
        except ImportError as exc:
            skipped["secrets"] = f"Secret Manager fake unavailable: {exc}"
        else:
            quiet = logging.getLogger("werkzeug")  # no access-log line per request
            stack.callback(quiet.setLevel, quiet.level)
            quiet.setLevel(logging.WARNING)
            fake = FakeSecretManager(page_cap=100).start()
            stack.callback(fake.stop)
            local_secrets = LocalSecretStore(tmp / "secrets.json", b"s" * 32)
            manager = SecretManagerStore(PROJECT, transport="rest", api_endpoint=fake.url,
                                         credentials=AnonymousCredentials())
            out.append(_pair("secrets", "LocalSecretStore", "fake at the edge", _secret_ops(local_secrets),
                             _secret_ops(manager)))
        yield out, skipped


def _pair(port: str, embedded_name: str, emulator_name: str, embedded: dict[str, Callable[[int], Any]],
          emulator: dict[str, Callable[[int], Any]]) -> Pair:
    return Pair(port, embedded_name, emulator_name, {op: (embedded[op], emulator[op]) for op in embedded})


# -- measuring --------------------------------------------------------------------------------


def measure(pair: Pair, op: str, iterations: int, warmup: int) -> tuple[list[float], list[float]]:
    """Milliseconds per call: (embedded, emulator), alternating which goes first."""
    embedded, emulator = pair.ops[op]
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(warmup + iterations):
        sides = ((0, embedded), (1, emulator)) if i % 2 == 0 else ((1, emulator), (0, embedded))
        for side, fn in sides:
            started = time.perf_counter()
            fn(i)
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                times[side].append(elapsed)
    return times


def run(verbose: bool = False, iterations: int = ITERATIONS, warmup: int = WARMUP) -> list[Result]:
    heading("contract latency per operation: embedded adapters vs Google Cloud adapters on emulators")
    print(f"  {warmup} warm-up + {iterations} timed calls per operation and side, alternating; p50/p99 in ms",
          flush=True)
    results: list[Result] = []
    rows: list[list[str]] = []
    with running() as emulators, tempfile.TemporaryDirectory(prefix="bench-contract-") as tmp:
        print(f"  emulators: {describe(emulators)}", flush=True)
        with pairs(emulators, Path(tmp)) as (found, skipped):
            for port, why in skipped.items():
                print(f"  {port}: SKIPPED ({why})", flush=True)
            for pair in found:
                t0 = time.perf_counter()
                for op in pair.ops:
                    emb, emu = measure(pair, op, iterations, warmup)
                    stats = {(side, p): percentile(values, p) for side, values in (("emb", emb), ("emu", emu))
                             for p in (50, 99)}
                    for p in (50, 99):
                        results.append(Result(
                            "contract_latency", f"{pair.port} {op} p{p} ({pair.emulator_name})",
                            stats["emu", p], "ms", stats["emb", p], pair.embedded_name, None,
                            note=f"{iterations} calls after {warmup} warm-up; emulator on loopback, not Google",
                            extra={"emulator": pair.emulator_name}))
                    rows.append([pair.port, op, fmt_num(stats["emb", 50]), fmt_num(stats["emb", 99]),
                                 fmt_num(stats["emu", 50]), fmt_num(stats["emu", 99]),
                                 fmt_ratio(stats["emu", 50] / stats["emb", 50]),
                                 fmt_ratio(stats["emu", 99] / stats["emb", 99])])
                if verbose:
                    print(f"  ({pair.port}: {time.perf_counter() - t0:.1f} s)", flush=True)
            names = "; ".join(f"{p.port}: {p.embedded_name} vs {p.emulator_name}" for p in found)
    print()
    print(table(["port", "operation", "embedded p50", "p99", "emulator p50", "p99", "ratio p50", "ratio p99"],
                rows), flush=True)
    print(f"  (ms; {names})")
    if any(EMPTY_PULLS.values()):
        print("  empty pulls retried inside a timed pull(1) + ack: "
              + ", ".join(f"{k} {v}" for k, v in EMPTY_PULLS.items()))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="also print the time per port")
    parser.add_argument("--iterations", type=int, default=ITERATIONS)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    args = parser.parse_args()
    print(result_rows(run(args.verbose, args.iterations, args.warmup)))


if __name__ == "__main__":
    main()

"""Analytics ingest on one instance: events per second and p99 latency of ``POST /analytics/events/pageview``
and of 50-event ``/analytics/batch`` requests, beside ``GET /healthz/analytics`` on the same server.

Setup: the local runtime (``make serve``'s app: uvicorn, the analytics function's HttpApp, the SQLite bus)
in this process on a free port, a site with a write key and its origin, keep-alive httpx clients in
THREADS threads. Every ingest request resolves the key (cached), checks the origin and the per-key
rate, scrubs PII and publishes one bus message per event; the writer is NOT running meanwhile (the
bus absorbs the burst, as on Pub/Sub). Afterwards the writer drains what was queued, and the time it
takes gives the stored events/s (DuckDB rows + signals), reported too. The baseline is the cheapest
route of the same function on the same server and clients (health: routing, one JSON reply).
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import Result, fmt_num, heading, percentile, table

THREADS = 4
REQUESTS = 1_500  # per kind, spread over the threads
BATCH = 50
ORIGIN = "https://shop.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def _blast(base_url: str, method: str, path: str, body: dict | None, params: dict, total: int,
           run: str = "") -> tuple[list[float], float]:
    """Latencies (s) of ``total`` requests over THREADS keep-alive clients, and the wall time."""
    per_thread = total // THREADS
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS + 1)
    headers = {"Origin": ORIGIN, "User-Agent": UA}

    def worker(n: int) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.get("/healthz/analytics")  # open the connection before the clock starts
            barrier.wait()
            try:
                for i in range(per_thread):
                    payload = None if body is None else {**body, "event_id": f"{run}{n}-{i}"} if "events" not in body \
                        else {"events": [{**e, "event_id": f"{run}{n}-{i}-{j}"} for j, e in enumerate(body["events"])]}
                    started = time.perf_counter()
                    r = client.request(method, path, params=params, json=payload, headers=headers)
                    mine.append(time.perf_counter() - started)
                    if r.status_code not in (200, 202):
                        raise RuntimeError(f"{method} {path} answered {r.status_code}: {r.text[:300]}")
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"ingest run failed: {failures[0]!r}")
    return latencies, wall


def run(verbose: bool = False, requests: int = REQUESTS) -> list[Result]:
    from studio.kernel import logs
    from tests.support.api import new_tenant, new_user
    from tests.support.platform import start_platform

    heading("analytics ingest: events/s per instance and p99, single events and batches, vs the health route")
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    devnull = open(os.devnull, "w")  # closed in finally: the access log is kernel cost, the terminal is not
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        running = start_platform(Path(tmp), rate_limit_per_minute=1_000_000_000, login_max_failures_per_ip=1_000_000)
        try:
            logs.configure()  # what the kernel does on its first request; then silence the stream only
            logging.getLogger("httpx").setLevel(logging.WARNING)  # the client's own lines are not server cost
            for handler in root.handlers:
                if isinstance(handler, logging.StreamHandler):
                    handler.setStream(devnull)
            with httpx.Client(base_url=running.base_url, timeout=30) as client:
                owner = new_user(client, "bench")
                tenant = new_tenant(client, owner)
                h = owner.in_tenant(tenant)
                site = client.post("/sites", json={"name": "Bench", "origins": [ORIGIN],
                                                   "rate_limit_per_minute": 1_000_000}, headers=h).json()
                key = client.post(f"/sites/{site['id']}/keys", headers=h).json()["key"]
            event = {"anonymous_id": "visitor-1", "session_id": "s1", "url": "https://shop.example/pricing?utm_source=news",
                     "page_type": "pricing", "surface": "web", "referrer": "https://www.google.com/"}
            params = {"key": key}
            _blast(running.base_url, "POST", "/analytics/events/pageview", event, params, 200, "warm")
            health, health_wall = _blast(running.base_url, "GET", "/healthz/analytics", None, {}, requests)
            single, single_wall = _blast(running.base_url, "POST", "/analytics/events/pageview", event, params,
                                         requests, "one")
            batches = max(THREADS, requests // 10)
            batch, batch_wall = _blast(running.base_url, "POST", "/analytics/batch",
                                       {"events": [{**event, "type": "pageview"}] * BATCH}, params, batches, "many")
            queued = (200 // THREADS) * THREADS + len(single) + len(batch) * BATCH
            started = time.perf_counter()
            running.drain()
            drain_s = time.perf_counter() - started
            stored = running.deps.analytics.query("SELECT COUNT(*) AS n FROM events WHERE tenant_id = @t",
                                                  {"t": tenant})[0]["n"]
        finally:
            running.stop()
            root.handlers, root.level = saved_handlers, saved_level
            logging.getLogger("httpx").setLevel(logging.NOTSET)
            devnull.close()
    if stored != queued:
        raise RuntimeError(f"stored {stored} events of {queued} sent")
    ms = 1000.0
    rows = []
    figures = {}
    for label, lat, wall, per in (("GET /healthz/analytics (baseline)", health, health_wall, 0),
                                  ("POST /analytics/events/pageview", single, single_wall, 1),
                                  (f"POST /analytics/batch ({BATCH} events)", batch, batch_wall, BATCH)):
        rps = len(lat) / wall
        figures[label] = {"rps": rps, "eps": rps * per, "p50": percentile(lat, 50) * ms, "p99": percentile(lat, 99) * ms}
        rows.append([label, fmt_num(rps, "req/s"), fmt_num(rps * per, "events/s") if per else "-",
                     fmt_num(figures[label]["p50"], "ms"), fmt_num(figures[label]["p99"], "ms")])
    print(f"  {THREADS} keep-alive client threads in the same process; the writer drained {queued:,} events in "
          f"{drain_s:.1f} s ({queued / drain_s:,.0f} stored events/s: DuckDB rows + signal checks)", flush=True)
    print(table(["request", "req/s", "events/s", "p50", "p99"], rows), flush=True)
    base = figures["GET /healthz/analytics (baseline)"]
    one, many = figures["POST /analytics/events/pageview"], figures[f"POST /analytics/batch ({BATCH} events)"]
    note = f"one instance, {THREADS} client threads, SQLite bus; baseline: health route, same server"
    return [
        Result("analytics_ingest", "single events: events/s", one["eps"], "events/s", base["rps"], "health req/s",
               None, note=note),
        Result("analytics_ingest", "single events: p99", one["p99"], "ms", base["p99"], "health p99", None),
        Result("analytics_ingest", f"batches of {BATCH}: events/s", many["eps"], "events/s", base["rps"],
               "health req/s", None),
        Result("analytics_ingest", f"batches of {BATCH}: p99", many["p99"], "ms", base["p99"], "health p99", None),
        Result("analytics_ingest", "writer: stored events/s", queued / drain_s, "events/s", None, "", None,
               note="bus -> DuckDB insert + signals, one event per delivery"),
    ]

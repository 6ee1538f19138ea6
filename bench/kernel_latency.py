"""Authenticated GET through the whole kernel vs a bare functions-framework echo, same
process: goal <= 2x latency (p50); requests/s reported.

Setup (option 2 of the issue's two, on option 1's server): both sides are apps made by
``functions_framework.create_app`` (the identity function from functions/identity/main.py,
the echo from bench/fixtures/echo/main.py), behind one tiny WSGI path dispatcher, served
in this process by uvicorn through a2wsgi -- the server stack of the local runtime
(``make serve``) -- with HTTP/1.1 keep-alive. Why this is the fairest pairing: the two
requests cross the same server, the same dispatcher and the same functions-framework Flask
wrapper, so the only difference is the function body -- ``echo`` returns the path;
``identity`` runs the kernel. That is also the shape deployed on GCP (one
functions-framework app per function). Not chosen: serving ``build()``'s Starlette app
next to the echo would add the local-only gateway (a second Starlette router, the
prefix table, Flask ``make_response``) to one side only; werkzeug's threaded server
closes every connection (werkzeug 3 disables keep-alive) and starts a thread per
connection, a per-request cost production (gunicorn gthread, keep-alive) does not pay
and that would dilute the ratio.

``GET /tenants/{id}`` with bearer + X-Tenant-Id + X-Env passes token verification
(EdDSA), the session check, the membership lookup, the rate limiter, the handler, the store
read and one JSON log line. Logging stays on (it is kernel cost): the root JSON handler
that ``studio.kernel.logs.configure()`` installs for the 'studio.http' logger is pointed at
os.devnull instead of the terminal for the duration. uvicorn's own access line is off
(server noise, not kernel; gunicorn logs at 'error' in production). The rate limit is
raised so ~4,200 requests on one tenant are not refused; the check itself still runs.

The client (httpx, keep-alive) runs in the same process, so its cost (and GIL sharing with
the server) is in both figures. For diagnosis, the two apps are also called directly
(a WSGI call with a prepared environ, no server, no client, no other thread): that is the
CPU cost of each function body alone, and its ratio shows what the kernel itself costs.
"""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from bench import REPO
from bench.common import Result, fmt_num, free_port, heading, percentile, result_rows, table

GOAL = 2.0
WARMUP = 200
REQUESTS = 2000
THREADS = 4
ECHO = REPO / "bench" / "fixtures" / "echo" / "main.py"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Dispatch:
    """/echo to the echo app, everything else to the identity function: one check for both."""

    def __init__(self, echo: WsgiApp, identity: WsgiApp) -> None:
        self.echo, self.identity = echo, identity

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        app = self.echo if environ.get("PATH_INFO", "").startswith("/echo") else self.identity
        return app(environ, start_response)


def _direct(app: WsgiApp, path: str, headers: dict[str, str], n: int) -> list[float]:
    """Seconds per direct WSGI call (environ built outside the clock), body read to the end."""
    from werkzeug.test import EnvironBuilder

    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
        statuses.append(status)
        return lambda data: None

    out = []
    for _ in range(n):
        environ = EnvironBuilder(path=path, headers=headers, base_url="http://127.0.0.1").get_environ()
        started = time.perf_counter()
        result = app(environ, start_response)
        try:
            for _chunk in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        out.append(time.perf_counter() - started)
        if not statuses[-1].startswith("200"):
            raise RuntimeError(f"direct GET {path} answered {statuses[-1]}")
    return out


def _serve(app: WsgiApp, port: int) -> tuple[Any, threading.Thread]:
    from a2wsgi import WSGIMiddleware

    from tests.support.platform import serve_in_thread

    return serve_in_thread(WSGIMiddleware(app), port, access_log=False)  # type: ignore[arg-type]


def _timed_get(client: httpx.Client, path: str, headers: dict[str, str], out: list[float]) -> None:
    started = time.perf_counter()
    r = client.get(path, headers=headers)
    elapsed = time.perf_counter() - started
    if r.status_code != 200:
        raise RuntimeError(f"GET {path} answered {r.status_code}: {r.text[:500]}")
    out.append(elapsed)


def _concurrent(base_url: str, path: str, headers: dict[str, str], total: int, threads: int) -> float:
    """req/s for ``total`` requests spread over ``threads`` keep-alive clients."""
    per_thread = total // threads
    failures: list[BaseException] = []
    barrier = threading.Barrier(threads + 1)

    def worker() -> None:
        sink: list[float] = []
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.get(path, headers=headers)  # open the connection before the clock starts
            barrier.wait()
            try:
                for _ in range(per_thread):
                    _timed_get(client, path, headers, sink)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"concurrent run failed: {failures[0]!r}")
    return per_thread * threads / elapsed


def run(verbose: bool = False, requests: int = REQUESTS) -> list[Result]:
    import functions_framework

    from studio.bootstrap import bootstrap, reset
    from studio.config import Settings
    from studio.kernel import logs
    from tests.support.api import new_tenant, new_user

    heading("kernel latency: authenticated GET through the kernel vs bare functions-framework echo")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    results: list[Result] = []
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    devnull = open(os.devnull, "w")  # closed in finally
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as tmp:
        reset()
        bootstrap(Settings(data_dir=Path(tmp), public_url=base_url, rate_limit_per_minute=1_000_000_000))
        logs.configure()  # what the kernel does on its first request; then silence the stream only
        for handler in root.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        identity_source = REPO / "functions" / "identity" / "main.py"
        app = _Dispatch(functions_framework.create_app("echo", str(ECHO)),
                        functions_framework.create_app("identity", str(identity_source)))
        server, thread = _serve(app, port)
        try:
            with httpx.Client(base_url=base_url, timeout=30) as client:
                owner = new_user(client, "bench")
                tenant_id = new_tenant(client, owner)
                kernel_path, kernel_headers = f"/tenants/{tenant_id}", owner.in_tenant(tenant_id)
                echo_path, echo_headers = "/echo", dict(owner.in_tenant(tenant_id))  # same header bytes
                check = client.get(echo_path, headers=echo_headers)
                if check.text != "/echo":
                    raise RuntimeError(f"echo answered {check.status_code} {check.text!r}")
                sink: list[float] = []
                for _ in range(WARMUP):
                    _timed_get(client, echo_path, echo_headers, sink)
                    _timed_get(client, kernel_path, kernel_headers, sink)
                seq: dict[str, list[float]] = {"echo": [], "kernel": []}
                for _ in range(requests):  # interleaved, so drift hits both sides alike
                    _timed_get(client, echo_path, echo_headers, seq["echo"])
                    _timed_get(client, kernel_path, kernel_headers, seq["kernel"])
            conc = {"echo": _concurrent(base_url, echo_path, echo_headers, requests, THREADS),
                    "kernel": _concurrent(base_url, kernel_path, kernel_headers, requests, THREADS)}
            direct: dict[str, list[float]] = {"echo": [], "kernel": []}
            for _ in range(requests // 100):  # alternate blocks of 100
                direct["echo"] += _direct(app.echo, echo_path, echo_headers, 100)
                direct["kernel"] += _direct(app.identity, kernel_path, kernel_headers, 100)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            root.handlers, root.level = saved_handlers, saved_level
            devnull.close()
            reset()

    ms = 1000.0
    stats = {k: {"p50": percentile(v, 50) * ms, "p99": percentile(v, 99) * ms, "rps": len(v) / sum(v)}
             for k, v in seq.items()}
    inapp = {k: {"p50": percentile(v, 50) * ms, "p99": percentile(v, 99) * ms} for k, v in direct.items()}
    rows = []
    for key, label in (("echo", "GET /echo (bare functions-framework)"),
                       ("kernel", "GET /tenants/{id} (whole kernel)")):
        s, a = stats[key], inapp[key]
        rows.append([label, fmt_num(s["p50"], "ms"), fmt_num(s["p99"], "ms"), fmt_num(s["rps"], "req/s"),
                     fmt_num(conc[key], "req/s"), fmt_num(a["p50"], "ms"), fmt_num(a["p99"], "ms")])
    print(f"  {requests} sequential requests each (interleaved, keep-alive, after {WARMUP} warm-up each); "
          f"concurrent: {THREADS} client threads, {requests} requests total; direct: {requests} WSGI calls "
          "each, no server", flush=True)
    print(table(["request", "p50", "p99", "req/s (seq)", f"req/s ({THREADS} thr)", "direct p50", "direct p99"],
                rows), flush=True)

    note = "end-to-end: httpx -> uvicorn -> a2wsgi -> functions-framework app, one process"
    results.append(Result("kernel_latency", "GET /tenants/{id} p50", stats["kernel"]["p50"], "ms",
                          stats["echo"]["p50"], "echo", GOAL, note=note,
                          extra={"p99_ms": stats["kernel"]["p99"], "echo_p99_ms": stats["echo"]["p99"]}))
    results.append(Result("kernel_latency", "GET /tenants/{id} p99", stats["kernel"]["p99"], "ms",
                          stats["echo"]["p99"], "echo", None))
    results.append(Result("kernel_latency", "direct WSGI call p50 (no server/client)", inapp["kernel"]["p50"], "ms",
                          inapp["echo"]["p50"], "echo", None, note="diagnosis: the function bodies alone"))
    results.append(Result("kernel_latency", "sequential throughput", stats["kernel"]["rps"], "req/s",
                          stats["echo"]["rps"], "echo", None))
    results.append(Result("kernel_latency", f"concurrent throughput ({THREADS} threads)", conc["kernel"], "req/s",
                          conc["echo"], "echo", None))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=REQUESTS)
    args = parser.parse_args()
    print(result_rows(run(requests=args.requests)))


if __name__ == "__main__":
    main()

"""Fan-out: 1,000 concurrent subscribers (half SSE, half WebSocket) on one chat thread of one
gateway process; messages posted; post-to-delivery p50 <= 20 ms and p99 <= 100 ms.

Setup. The gateway is the local runtime (every HTTP function + the realtime gateway, real
SQLite store, its event delivery loop running) in its own process (bench/realtime_server.py).
The 1,000 subscribers live in this process on one uvloop: 500 SSE streams and 500 WebSockets,
each authenticated with bearer + X-Tenant-Id + X-Env. A poster process sends 3 warm-up + 50
messages, one every 100 ms, with ``POST /chat/threads/{id}/messages`` (keep-alive), stamping
wall time (``time.time()``, same machine) just before each POST. Each delivery is stamped with
the kernel's receive time of the bytes carrying that message's ``message.created``
(SO_TIMESTAMPNS; on loopback, taken as the gateway's write reaches the subscriber's side of
the stack), and with the time the subscriber's code read them. The figure is p50 / p99 over
every (subscriber, message) pair; a pair that never arrived counts as infinitely late, and
every pair must arrive exactly once and in order on its subscriber.

The subscribers are lean clients (bench/realtime_lean_clients.py): full protocol, every
event JSON-decoded, a few microseconds each. One process serving 1,000 subscribers is the
benchmark's artefact, not the product's (each browser has its own CPU), and library clients
(httpx + websockets) cost ~100 us of CPU per delivery: 100 ms of one core per message, as
long as the gap between posts. A round with them is still run and reported (``--no-library``
skips it): it shows what they add, but it is not the gateway's figure.

CPUs. The gateway, the subscribers and the poster share the machine's cores as the scheduler
places them. ``--pin`` (diagnosis) puts the gateway on CPU 0 and the rest on CPU 1, as a
deployed gateway has its own CPU and its clients are elsewhere; the output says which.

No agent replies. The runtime is started with functions/manifest.yaml minus agent_pipeline
(derived into the temp dir on each run), so a post is exactly one ``message.created`` to fan
out; the reply path has its own benchmark (realtime_ttft.py).

Baseline: the same measure with 1 subscriber (one SSE round, then one WS round, 30 messages
each, on fresh threads of the same gateway before the 1,000 connect): the platform's floor
(HTTP post through the kernel, the SQLite write, the change listener, the feed, one socket).
"""
from __future__ import annotations

import argparse
import math
import os
import tempfile
from pathlib import Path

import httpx
import uvloop

from bench.common import Result, fmt_num, heading, median, percentile, result_rows, table
from bench.realtime_fanout_round import CONNECT_CONCURRENCY, INTERVAL_S, WARMUP, Round, run_round
from bench.realtime_support import Gateway, no_agent_manifest, raise_nofile, session

GOAL_P50_MS = 20.0
GOAL_P99_MS = 100.0
SUBSCRIBERS = 1000
MESSAGES = 50
BASE_MESSAGES = 30
GATEWAY_CPU, CLIENT_CPU = 0, 1


async def _main(gw: Gateway, subscribers: int, messages: int, library: bool,
                client_cpus: set[int] | None) -> list[Round]:
    with httpx.Client(base_url=gw.base_url, timeout=30) as client:
        sess = session(client)
        threads = [sess.new_thread(client, t) for t in ("floor-sse", "floor-ws", "fanout", "fanout-library")]
    half = subscribers // 2
    plan = [(threads[0], Round("floor-sse", 1, 0, BASE_MESSAGES)), (threads[1], Round("floor-ws", 0, 1, BASE_MESSAGES)),
            (threads[2], Round("fanout", half, subscribers - half, messages))]
    if library:
        plan.append((threads[3], Round("fanout-library", half, subscribers - half, messages, clients="library")))
    return [await run_round(gw, sess, thread_id, rnd, client_cpus) for thread_id, rnd in plan]


def _row(label: str, values: list[float]) -> list[str]:
    return [label, f"{len(values):,}", fmt_num(percentile(values, 50), "ms"), fmt_num(percentile(values, 90), "ms"),
            fmt_num(percentile(values, 99), "ms"), fmt_num(max(values) if values else math.nan, "ms")]


def _cpu_line(rnd: Round) -> str:
    deliveries = max(len(rnd.receipts), 1)
    return (f"{rnd.gateway_cpu_s:.1f} s gateway ({rnd.gateway_cpu_s / deliveries * 1e6:.0f} us per delivery, "
            f"the posts' handling included), {rnd.client_cpu_s:.1f} s subscribers, over {rnd.post_wall_s:.1f} s")


def _cpu_plan(pin: bool) -> tuple[set[int] | None, set[int] | None, str]:
    if pin and hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2:
        return {GATEWAY_CPU}, {CLIENT_CPU}, f"gateway pinned to CPU {GATEWAY_CPU}, subscribers and poster to CPU {CLIENT_CPU}"
    return None, None, "not pinned: the scheduler shares the CPUs among the gateway, the subscribers and the poster"


def run(verbose: bool = False, subscribers: int = SUBSCRIBERS, messages: int = MESSAGES, library: bool = True,
        pin: bool = False) -> list[Result]:
    heading(f"realtime fan-out: {subscribers:,} subscribers on one thread, post -> message.created")
    raise_nofile()
    gateway_cpus, client_cpus, placement = _cpu_plan(pin)
    print(f"  machine load before: {Path('/proc/loadavg').read_text().split()[:3]} (1/5/15 min); {placement}",
          flush=True)
    before = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        gw = Gateway(Path(tmp), no_agent_manifest(Path(tmp)), cpus=gateway_cpus)
        try:
            if client_cpus:
                os.sched_setaffinity(0, client_cpus)
            rounds = uvloop.run(_main(gw, subscribers, messages, library, client_cpus))
        finally:
            os.sched_setaffinity(0, before)
            gw.stop()
            log_tail = gw.log_tail()
    for rnd in rounds:
        if rnd.errors:
            raise RuntimeError(f"{rnd.label}: {rnd.errors[0]}\ngateway log: {log_tail}")
    return _report(rounds)


def _report(rounds: list[Round]) -> list[Result]:
    floor_sse, floor_ws, fan = rounds[:3]
    lib = rounds[3] if len(rounds) > 3 else None
    floor = floor_sse.latencies_ms() + floor_ws.latencies_ms()
    lat = fan.latencies_ms()
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    f50, f99 = percentile(floor, 50), percentile(floor, 99)
    n = f"{fan.subscribers:,} subscribers"
    rows = [_row("1 subscriber, SSE", floor_sse.latencies_ms()), _row("1 subscriber, WS", floor_ws.latencies_ms()),
            _row(f"{n}, all", lat), _row(f"{n}, SSE half", fan.latencies_ms("sse")),
            _row(f"{n}, WS half", fan.latencies_ms("ws")),
            _row(f"{n}, read by the client code", fan.latencies_ms(read=True))]
    if lib is not None:
        rows.append(_row(f"{n}, library clients (httpx + websockets)", lib.latencies_ms()))
    spans = fan.spans_ms()
    print(f"  {n} connected in {fan.connect_s:.1f} s ({CONNECT_CONCURRENCY} at a time); {WARMUP} warm-up + "
          f"{fan.messages} posts every {INTERVAL_S * 1000:.0f} ms; no agent replies", flush=True)
    print(table(["subscribers", "pairs", "p50", "p90", "p99", "max"], rows), flush=True)
    print(f"  one fan-out (first to last subscriber's receipt of a message): median {fmt_num(median(spans), 'ms')}, "
          f"max {fmt_num(max(spans) if spans else math.nan, 'ms')}", flush=True)
    print(f"  CPU while posting, lean clients: {_cpu_line(fan)}", flush=True)
    if lib is not None:
        print(f"  CPU while posting, library clients: {_cpu_line(lib)}", flush=True)
    print(f"  posts went out at most {fan.post_slip_ms:.1f} ms after their 100 ms slot (a lagging gateway "
          f"would slow the poster and hide its own lag)", flush=True)
    for rnd in [floor_sse, floor_ws, fan, *([lib] if lib else [])]:
        faults = (rnd.missing(), rnd.duplicates(), rnd.out_of_order())
        print(f"  {rnd.label}: {rnd.exact():,} of {rnd.messages * rnd.subscribers:,} pairs delivered once and in order"
              + (f"; WARNING: {faults[0]} missing, {faults[1]} duplicated, {faults[2]} out of order" if any(faults)
                 else ""), flush=True)

    extra = {"p90_ms": percentile(lat, 90), "max_ms": max(lat) if lat else None, "pairs": len(lat),
             "missing": fan.missing(), "duplicates": fan.duplicates(), "out_of_order": fan.out_of_order(),
             "subscribers": fan.subscribers, "post_slip_ms": fan.post_slip_ms,
             "sse_p50_ms": percentile(fan.latencies_ms("sse"), 50), "ws_p50_ms": percentile(fan.latencies_ms("ws"), 50),
             "fanout_span_median_ms": median(spans), "connect_s": fan.connect_s,
             "read_p50_ms": percentile(fan.latencies_ms(read=True), 50),
             "read_p99_ms": percentile(fan.latencies_ms(read=True), 99),
             "gateway_cpu_s": fan.gateway_cpu_s, "client_cpu_s": fan.client_cpu_s, "post_wall_s": fan.post_wall_s,
             "gateway_cpu_us_per_delivery": fan.gateway_cpu_s / max(len(fan.receipts), 1) * 1e6}
    subs = f"{fan.subscribers:,} subs"
    goal_note = "absolute goal; the 1-subscriber floor is the line below"
    results = [
        Result("realtime_fanout", f"post -> message.created p50 ({subs})", p50, "ms", GOAL_P50_MS, "goal", 1.0,
               note=goal_note, extra=extra),
        Result("realtime_fanout", f"post -> message.created p99 ({subs})", p99, "ms", GOAL_P99_MS, "goal", 1.0,
               note=goal_note),
        Result("realtime_fanout", f"p50 ({subs}) vs 1 subscriber", p50, "ms", f50, "1 subscriber", None,
               extra={"floor_p99_ms": f99}),
        Result("realtime_fanout", f"p99 ({subs}) vs 1 subscriber", p99, "ms", f99, "1 subscriber", None),
        Result("realtime_fanout", "(subscriber, message) pairs expected / delivered once, in order",
               float(fan.messages * fan.subscribers), "pairs", float(fan.exact()), "exact", 1.0,
               note="1.00x: none missing, duplicated or out of order"),
    ]
    if lib is not None:
        b = lib.latencies_ms()
        results += [
            Result("realtime_fanout", f"p50 ({subs}), library clients in one process", percentile(b, 50), "ms",
                   GOAL_P50_MS, "goal", None, note="client-bound: reported, not judged",
                   extra={"p99_ms": percentile(b, 99), "missing": lib.missing(), "client_cpu_s": lib.client_cpu_s}),
            Result("realtime_fanout", f"p99 ({subs}), library clients in one process", percentile(b, 99), "ms",
                   GOAL_P99_MS, "goal", None),
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--no-library", action="store_true", help="skip the library-client round")
    parser.add_argument("--pin", action="store_true", help="gateway on CPU 0, subscribers and poster on CPU 1")
    args = parser.parse_args()
    print(result_rows(run(subscribers=args.subscribers, messages=args.messages, library=not args.no_library,
                          pin=args.pin)))


if __name__ == "__main__":
    main()

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
import asyncio
import json
import math
import multiprocessing
import os
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvloop
from websockets.asyncio.client import connect as ws_connect

from bench.common import Result, fmt_num, heading, median, percentile, result_rows, table
from bench.realtime_lean_clients import LeanSse, LeanWs, OnEvent, open_stream
from bench.realtime_support import Gateway, Session, no_agent_manifest, raise_nofile, session, sse_blocks

GOAL_P50_MS = 20.0
GOAL_P99_MS = 100.0
SUBSCRIBERS = 1000
MESSAGES = 50
BASE_MESSAGES = 30
WARMUP = 3
INTERVAL_S = 0.1
CONNECT_CONCURRENCY = 50
SETTLE_S = 1.0
DRAIN_TIMEOUT_S = 20.0
GATEWAY_CPU, CLIENT_CPU = 0, 1


@dataclass
class Round:
    label: str
    sse: int
    ws: int
    messages: int
    clients: str = "lean"  # or "library"
    t0: dict[int, float] = field(default_factory=dict)
    receipts: list[tuple[str, int, int, float, float]] = field(default_factory=list)  # kind, sub, msg, arrived, read
    connect_s: float = 0.0
    post_wall_s: float = 0.0
    post_slip_ms: float = 0.0  # the latest a post went out after its slot (a lagging gateway slows the poster)
    gateway_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def subscribers(self) -> int:
        return self.sse + self.ws

    def receiver(self, kind: str, sub: int) -> OnEvent:
        """An on-event callback for one subscriber: records each message.created of this round."""
        def on_event(event_type: str, data: dict[str, Any], arrived: float, read_at: float) -> None:
            if event_type == "message.created":
                if data.get("type") != event_type:
                    self.errors.append(f"{kind} {sub}: {event_type} carrying {data.get('type')!r}")
                self.receipts.append((kind, sub, int(data["data"]["text"].rsplit(" ", 1)[1]), arrived, read_at))
        return on_event

    def latencies_ms(self, kind: str | None = None, read: bool = False) -> list[float]:
        """Post -> arrival at the subscriber's socket (or, with ``read``, -> read by its code);
        a pair that never arrived counts as infinitely late."""
        got = [((r if read else a) - self.t0[m]) * 1000.0 for k, _s, m, a, r in self.receipts
               if m >= WARMUP and m in self.t0 and (kind is None or k == kind)]
        share = {"sse": self.sse, "ws": self.ws}.get(kind or "", self.subscribers) / max(self.subscribers, 1)
        return got + [math.inf] * round(self.missing() * share)

    def missing(self) -> int:
        return self.messages * self.subscribers - len({(k, s, m) for k, s, m, *_t in self.receipts if m >= WARMUP})

    def duplicates(self) -> int:
        keys = [(k, s, m) for k, s, m, *_t in self.receipts]
        return len(keys) - len(set(keys))

    def out_of_order(self) -> int:
        """Deliveries that came after a later message on the same subscriber."""
        last: dict[tuple[str, int], int] = {}
        count = 0
        for k, s, m, *_t in self.receipts:  # receipts are appended in the order each socket was read
            if m <= last.get((k, s), -1):
                count += 1
            last[(k, s)] = max(m, last.get((k, s), -1))
        return count

    def exact(self) -> int:
        """Pairs delivered once and in order."""
        return self.messages * self.subscribers - self.missing() - self.duplicates() - self.out_of_order()

    def spans_ms(self) -> list[float]:
        """Per message: first to last subscriber's arrival (how long one fan-out takes)."""
        by_msg: dict[int, list[float]] = defaultdict(list)
        for _k, _s, m, t, _r in self.receipts:
            if m >= WARMUP:
                by_msg[m].append(t)
        return [(max(ts) - min(ts)) * 1000.0 for ts in by_msg.values()]


class _Ready:
    def __init__(self, total: int) -> None:
        self.total, self.count = total, 0
        self.event = asyncio.Event()

    def mark(self) -> None:
        self.count += 1
        if self.count >= self.total:
            self.event.set()


async def _lean_subscriber(kind: str, gw: Gateway, path: str, headers: dict[str, str], sub: int,
                           gate: asyncio.Semaphore, ready: _Ready, rnd: Round) -> None:
    async with gate:
        stream = await open_stream(LeanSse if kind == "sse" else LeanWs, "127.0.0.1", gw.port, path, headers,
                                   rnd.receiver(kind, sub))
    ready.mark()
    try:
        why = await stream.closed  # only the end of the round (cancellation) may end a subscriber
        raise ConnectionError(f"{kind} subscriber {sub} ended early: {why!r}")
    finally:
        stream.close()


async def _library_sse(client: httpx.AsyncClient, path: str, headers: dict[str, str], sub: int,
                       gate: asyncio.Semaphore, ready: _Ready, rnd: Round) -> None:
    on_event = rnd.receiver("sse", sub)
    await gate.acquire()
    released = False
    try:
        async with client.stream("GET", path, headers=headers) as resp:  # headers come after subscribing
            if resp.status_code != 200:
                raise RuntimeError(f"SSE {path} answered {resp.status_code}")
            gate.release()
            released = True
            ready.mark()
            buffer = ""
            async for text in resp.aiter_text():
                now = time.time()
                buffer += text
                if "\n\n" in buffer:
                    events, buffer = sse_blocks(buffer)
                    for kind, data in events:
                        on_event(kind, data, now, now)
    finally:
        if not released:
            gate.release()


async def _library_ws(url: str, headers: dict[str, str], sub: int, gate: asyncio.Semaphore, ready: _Ready,
                      rnd: Round) -> None:
    on_event = rnd.receiver("ws", sub)
    async with gate:
        ws = await ws_connect(url, additional_headers=headers, open_timeout=60, ping_interval=None,
                              close_timeout=1, max_queue=None)
        if json.loads(await ws.recv()).get("type") != "hello":
            raise RuntimeError(f"WS {url}: no hello")
    ready.mark()
    async with ws:
        async for raw in ws:
            now = time.time()
            frame = json.loads(raw)
            on_event(frame.get("type", ""), frame, now, now)


def post_messages(base_url: str, path: str, headers: dict[str, str], label: str, count: int,
                  cpus: set[int] | None, out: Any) -> None:
    """The poster process: one POST every INTERVAL_S (keep-alive), the clock read just before
    each; sends back {index: t0} or the error."""
    if cpus:
        os.sched_setaffinity(0, cpus)
    t0: dict[int, float] = {}
    slip = 0.0
    try:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            client.get("/healthz")  # the connection is open before the first timed post
            start = time.monotonic()
            for i in range(count):
                delay = start + i * INTERVAL_S - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                slip = max(slip, -delay)
                t0[i] = time.time()
                r = client.post(path, json={"text": f"fanout {label} {i}"}, headers=headers)
                if r.status_code != 201:
                    raise RuntimeError(f"POST {path} answered {r.status_code}: {r.text[:300]}")
        out.send({"t0": t0, "wall_s": time.monotonic() - start, "slip_ms": slip * 1000.0})
    except Exception as exc:  # noqa: BLE001 - reported by the round
        out.send({"error": repr(exc)})


def _subscribers(gw: Gateway, sess: Session, thread_id: str, rnd: Round, client: httpx.AsyncClient,
                 gate: asyncio.Semaphore, ready: _Ready) -> list[asyncio.Task[None]]:
    tasks = []
    for kind, count in (("sse", rnd.sse), ("ws", rnd.ws)):
        path = f"/{kind}/chat/{thread_id}"
        for i in range(count):
            if rnd.clients == "lean":
                coro = _lean_subscriber(kind, gw, path, sess.headers, i, gate, ready, rnd)
            elif kind == "sse":
                coro = _library_sse(client, path, sess.headers, i, gate, ready, rnd)
            else:
                coro = _library_ws(gw.ws_url + path, sess.headers, i, gate, ready, rnd)
            tasks.append(asyncio.create_task(coro))
    return tasks


async def _round(gw: Gateway, sess: Session, thread_id: str, rnd: Round, client_cpus: set[int] | None) -> Round:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    ready = _Ready(rnd.subscribers)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=gw.base_url, limits=limits, timeout=httpx.Timeout(60, read=None)) as client:
        started = time.monotonic()
        tasks = _subscribers(gw, sess, thread_id, rnd, client, gate, ready)
        try:
            waiter = asyncio.create_task(ready.event.wait())
            done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED, timeout=180)
            if waiter not in done:
                broken = [t for t in done if t.exception() is not None]
                raise RuntimeError(f"{ready.count}/{rnd.subscribers} subscribers live; "
                                   f"{broken[0].exception()!r}" if broken else "connect timed out")
            rnd.connect_s = time.monotonic() - started
            await asyncio.sleep(SETTLE_S)
            cpu0, proc0 = gw.cpu_s(), time.process_time()
            ctx = multiprocessing.get_context("spawn")
            mine, theirs = ctx.Pipe(duplex=False)
            poster = ctx.Process(target=post_messages, args=(
                gw.base_url, f"/chat/threads/{thread_id}/messages", sess.headers, rnd.label, WARMUP + rnd.messages,
                client_cpus, theirs), daemon=True)
            poster.start()
            while not mine.poll():
                if not poster.is_alive():
                    raise RuntimeError(f"the poster exited ({poster.exitcode}) without a word")
                await asyncio.sleep(0.05)
            report = mine.recv()
            poster.join(10)
            if "error" in report:
                raise RuntimeError(f"poster: {report['error']}")
            rnd.t0, rnd.post_wall_s, rnd.post_slip_ms = report["t0"], report["wall_s"], report["slip_ms"]
            want = (WARMUP + rnd.messages) * rnd.subscribers
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while len(rnd.receipts) < want and time.monotonic() < deadline and not any(t.done() for t in tasks):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # a late duplicate would show up now
            rnd.gateway_cpu_s, rnd.client_cpu_s = gw.cpu_s() - cpu0, time.process_time() - proc0
            rnd.errors += [repr(t.exception()) for t in tasks if t.done() and not t.cancelled() and t.exception()]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return rnd


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
    return [await _round(gw, sess, thread_id, rnd, client_cpus) for thread_id, rnd in plan]


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

"""Fan-out: 1,000 concurrent subscribers (half SSE, half WebSocket) on one chat thread of one
gateway process; messages posted; post-to-delivery p50 <= 20 ms and p99 <= 100 ms.

Setup. The gateway is the local runtime (every HTTP function + the realtime gateway, real
SQLite store, its event delivery loop running) in its own process (bench/realtime_server.py).
The clients live in this process, on one asyncio loop: 500 SSE streams (``httpx.AsyncClient``,
bearer + X-Tenant-Id + X-Env) and 500 WebSockets (``websockets.asyncio.client``, which offers
permessage-deflate as browsers do), all on ONE thread. Once every subscriber is live (SSE:
response headers received, which the gateway sends after subscribing; WS: ``hello``
received), a poster thread sends 3 warm-up + 50 messages, one every 100 ms, with
``POST /chat/threads/{id}/messages`` (keep-alive). The clock: wall time (``time.time()``,
same machine) just before each POST, and when each subscriber's socket hands over the
bytes carrying that message's ``message.created`` (stamped before parsing). The figure is
p50 / p99 over every (subscriber, message) pair; every pair must arrive (missing = 0).

No agent replies. The runtime is started with functions/manifest.yaml minus agent_pipeline
(derived into the temp dir on each run), so a post is exactly one ``message.created`` to fan
out. With the pipeline, every post would also start a streamed reply (created, deltas every
250 ms, completed: ~4 more fan-outs to 1,000 subscribers per post, from the delivery loop's
thread, fighting the posts for the GIL), and 50 replies of ~0.5 s each run serially, so the
figure would mix two loads and depend on the local responder's pace; the reply path has its
own benchmark (realtime_ttft.py).

Baseline: the same measure with 1 subscriber (one SSE round, then one WS round, 30 messages
each, on a fresh thread of the same gateway before the 1,000 connect): the platform's floor
(HTTP post through the kernel, the SQLite write, the change listener, the feed, one socket).

Both processes share the 2 cores: whatever the clients spend reading 1,000 deliveries is in the
figure too (~65 us of client CPU per delivery with httpx + websockets, i.e. ~65 ms per
message for the 1,000), so the gateway's and this process's CPU use are printed. Diagnosis
round (``--no-bare`` skips it): the same 1,000 on another thread with bare-socket subscribers
(bench/realtime_rawclients.py: asyncio protocols that stamp on data_received and match the
message index with one regex, the WebSocket one negotiating permessage-deflate like the full
client) -- nearly the gateway's share alone. Its lines are reported, not judged.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect as ws_connect

from bench.common import Result, fmt_num, heading, median, percentile, result_rows, table
from bench.realtime_rawclients import RawSse, RawWs
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
_RAW_TEXT = re.compile(rb'"text":"fanout [a-z-]+ (\d+)"')


@dataclass
class Round:
    label: str
    sse: int
    ws: int
    messages: int
    t0: dict[int, float] = field(default_factory=dict)
    receipts: list[tuple[str, int, int, float]] = field(default_factory=list)  # (kind, sub, msg, time)
    connect_s: float = 0.0
    post_wall_s: float = 0.0
    gateway_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def subscribers(self) -> int:
        return self.sse + self.ws

    def latencies_ms(self, kind: str | None = None) -> list[float]:
        return [(t - self.t0[m]) * 1000.0 for k, _s, m, t in self.receipts
                if m >= WARMUP and m in self.t0 and (kind is None or k == kind)]

    def missing(self) -> int:
        got = {(k, s, m) for k, s, m, _t in self.receipts if m >= WARMUP}
        want = self.messages * self.subscribers
        return want - len(got)

    def duplicates(self) -> int:
        keys = [(k, s, m) for k, s, m, _t in self.receipts]
        return len(keys) - len(set(keys))

    def spans_ms(self) -> list[float]:
        """Per message: first to last subscriber's receipt (how long one fan-out takes)."""
        by_msg: dict[int, list[float]] = defaultdict(list)
        for _k, _s, m, t in self.receipts:
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


def _index(text: str) -> int:
    return int(text.rsplit(" ", 1)[1])


async def _sse_subscriber(client: httpx.AsyncClient, path: str, headers: dict[str, str], sub: int,
                          gate: asyncio.Semaphore, ready: _Ready, rnd: Round) -> None:
    await gate.acquire()
    released = False
    try:
        async with client.stream("GET", path, headers=headers) as resp:
            if resp.status_code != 200:
                raise RuntimeError(f"SSE {path} answered {resp.status_code}")
            gate.release()
            released = True
            ready.mark()
            buffer = ""
            async for text in resp.aiter_text():
                now = time.time()
                buffer += text
                if "\n\n" not in buffer:
                    continue
                events, buffer = sse_blocks(buffer)
                for kind, data in events:
                    if kind == "message.created":
                        rnd.receipts.append(("sse", sub, _index(data["data"]["text"]), now))
    finally:
        if not released:
            gate.release()


async def _ws_subscriber(url: str, headers: dict[str, str], sub: int, gate: asyncio.Semaphore, ready: _Ready,
                         rnd: Round) -> None:
    await gate.acquire()
    released = False
    try:
        async with ws_connect(url, additional_headers=headers, open_timeout=60, ping_interval=None,
                              close_timeout=1, max_queue=None) as ws:
            hello = json.loads(await ws.recv())
            if hello.get("type") != "hello":
                raise RuntimeError(f"WS {url}: first frame {hello!r}")
            gate.release()
            released = True
            ready.mark()
            async for raw in ws:
                now = time.time()
                frame = json.loads(raw)
                if frame.get("type") == "message.created":
                    rnd.receipts.append(("ws", sub, _index(frame["data"]["text"]), now))
    finally:
        if not released:
            gate.release()


def _poster(gw: Gateway, sess: Session, thread_id: str, rnd: Round, failures: list[str]) -> None:
    """Posts on its own thread (sync keep-alive client), one every INTERVAL_S, clock before each."""
    path = f"/chat/threads/{thread_id}/messages"
    try:
        with httpx.Client(base_url=gw.base_url, timeout=30) as client:
            client.get("/healthz")  # the connection is open before the first timed post
            start = time.monotonic()
            for i in range(WARMUP + rnd.messages):
                delay = start + i * INTERVAL_S - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                rnd.t0[i] = time.time()
                r = client.post(path, json={"text": f"fanout {rnd.label} {i}"}, headers=sess.headers)
                if r.status_code != 201:
                    raise RuntimeError(f"POST {path} answered {r.status_code}: {r.text[:300]}")
            rnd.post_wall_s = time.monotonic() - start
    except Exception as exc:  # noqa: BLE001 - reported by the round
        failures.append(repr(exc))


async def _raw_subscriber(kind: str, host: str, port: int, path: str, headers: dict[str, str], sub: int,
                          gate: asyncio.Semaphore, ready: _Ready, rnd: Round) -> None:
    def sink(index: int, now: float) -> None:
        rnd.receipts.append((kind, sub, index, now))

    cls = RawSse if kind == "sse" else RawWs
    async with gate:
        _, proto = await asyncio.get_running_loop().create_connection(
            lambda: cls(path, f"{host}:{port}", headers, _RAW_TEXT, sink), host, port)
        await asyncio.wait_for(proto.ready, 60)
    ready.mark()
    try:
        await proto.closed
    finally:
        proto.close()


async def _round(gw: Gateway, sess: Session, thread_id: str, rnd: Round, raw: bool = False) -> Round:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    ready = _Ready(rnd.subscribers)
    path = f"/sse/chat/{thread_id}"
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=gw.base_url, limits=limits,
                                 timeout=httpx.Timeout(60, read=None)) as client:
        started = time.monotonic()
        if raw:
            tasks = [asyncio.create_task(_raw_subscriber(kind, "127.0.0.1", gw.port, f"/{kind}/chat/{thread_id}",
                                                         sess.headers, i, gate, ready, rnd))
                     for kind, count in (("sse", rnd.sse), ("ws", rnd.ws)) for i in range(count)]
        else:
            tasks = [asyncio.create_task(_sse_subscriber(client, path, sess.headers, i, gate, ready, rnd))
                     for i in range(rnd.sse)]
            tasks += [asyncio.create_task(_ws_subscriber(f"{gw.ws_url}/ws/chat/{thread_id}", sess.headers, i, gate,
                                                         ready, rnd)) for i in range(rnd.ws)]
        try:
            waiter = asyncio.create_task(ready.event.wait())
            done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED, timeout=180)
            if waiter not in done:
                broken = [t for t in done if t.exception() is not None]
                raise RuntimeError(f"{ready.count}/{rnd.subscribers} subscribers live; "
                                   f"{broken[0].exception()!r}" if broken else "connect timed out")
            rnd.connect_s = time.monotonic() - started
            await asyncio.sleep(SETTLE_S)
            failures: list[str] = []
            cpu0, proc0 = gw.cpu_s(), time.process_time()
            poster = threading.Thread(target=_poster, args=(gw, sess, thread_id, rnd, failures), daemon=True)
            poster.start()
            while poster.is_alive():
                await asyncio.sleep(0.05)
            want = (WARMUP + rnd.messages) * rnd.subscribers
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while len(rnd.receipts) < want and time.monotonic() < deadline and not failures:
                if any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # a late duplicate would show up now
            rnd.gateway_cpu_s, rnd.client_cpu_s = gw.cpu_s() - cpu0, time.process_time() - proc0
            rnd.errors += failures
            rnd.errors += [repr(t.exception()) for t in tasks if t.done() and not t.cancelled() and t.exception()]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return rnd


async def _main(gw: Gateway, subscribers: int, messages: int, raw: bool) -> list[Round]:
    with httpx.Client(base_url=gw.base_url, timeout=30) as client:
        sess = session(client)
        threads = [sess.new_thread(client, t) for t in ("floor-sse", "floor-ws", "fanout", "fanout-raw")]
    half = subscribers // 2
    rounds = [await _round(gw, sess, threads[0], Round("floor-sse", 1, 0, BASE_MESSAGES)),
              await _round(gw, sess, threads[1], Round("floor-ws", 0, 1, BASE_MESSAGES)),
              await _round(gw, sess, threads[2], Round("fanout", half, subscribers - half, messages))]
    if raw:
        rounds.append(await _round(gw, sess, threads[3], Round("fanout-raw", half, subscribers - half, messages),
                                   raw=True))
    return rounds


def _row(label: str, values: list[float]) -> list[str]:
    return [label, f"{len(values):,}", fmt_num(percentile(values, 50), "ms"), fmt_num(percentile(values, 90), "ms"),
            fmt_num(percentile(values, 99), "ms"), fmt_num(max(values) if values else math.nan, "ms")]


def _cpu_line(rnd: Round) -> str:
    deliveries = max(len(rnd.receipts), 1)
    return (f"{rnd.gateway_cpu_s:.1f} s gateway ({rnd.gateway_cpu_s / deliveries * 1e6:.0f} us per delivery), "
            f"{rnd.client_cpu_s:.1f} s clients, over {rnd.post_wall_s:.1f} s of posts")


def run(verbose: bool = False, subscribers: int = SUBSCRIBERS, messages: int = MESSAGES,
        raw: bool = True) -> list[Result]:
    heading(f"realtime fan-out: {subscribers:,} subscribers on one thread, post -> message.created")
    raise_nofile()
    print(f"  machine load before: {Path('/proc/loadavg').read_text().split()[:3]} (1/5/15 min), "
          f"2 cores shared by the gateway, the clients and anything else running", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        gw = Gateway(Path(tmp), no_agent_manifest(Path(tmp)))
        try:
            rounds = asyncio.run(_main(gw, subscribers, messages, raw))
        finally:
            gw.stop()
            log_tail = gw.log_tail()
    for rnd in rounds:
        if rnd.errors:
            raise RuntimeError(f"{rnd.label}: {rnd.errors[0]}\ngateway log: {log_tail}")
    floor_sse, floor_ws, fan = rounds[:3]
    bare = rounds[3] if len(rounds) > 3 else None

    floor = floor_sse.latencies_ms() + floor_ws.latencies_ms()
    lat = fan.latencies_ms()
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    f50, f99 = percentile(floor, 50), percentile(floor, 99)
    n = f"{fan.subscribers:,} subscribers"
    rows = [_row("1 subscriber, SSE", floor_sse.latencies_ms()), _row("1 subscriber, WS", floor_ws.latencies_ms()),
            _row(f"{n}, all", lat), _row(f"{n}, SSE half", fan.latencies_ms("sse")),
            _row(f"{n}, WS half", fan.latencies_ms("ws"))]
    if bare is not None:
        rows.append(_row(f"{n}, bare-socket clients (diagnosis)", bare.latencies_ms()))
    spans = fan.spans_ms()
    print(f"  {n} connected in {fan.connect_s:.1f} s ({CONNECT_CONCURRENCY} at a time); {WARMUP} warm-up + "
          f"{fan.messages} posts every {INTERVAL_S * 1000:.0f} ms (took {fan.post_wall_s:.1f} s); no agent replies",
          flush=True)
    print(table(["subscribers", "pairs", "p50", "p90", "p99", "max"], rows), flush=True)
    print(f"  one fan-out (first to last subscriber's receipt of a message): median {fmt_num(median(spans), 'ms')}, "
          f"max {fmt_num(max(spans) if spans else math.nan, 'ms')}", flush=True)
    print(f"  CPU while posting: {_cpu_line(fan)}", flush=True)
    if bare is not None:
        print(f"  CPU while posting, bare-socket clients: {_cpu_line(bare)}", flush=True)
    missing = fan.missing() + (bare.missing() if bare else 0)
    dups = fan.duplicates() + (bare.duplicates() if bare else 0)
    print(f"  missing (subscriber, message) pairs: {fan.missing()} (floor rounds: "
          f"{floor_sse.missing() + floor_ws.missing()}, bare-socket round: {bare.missing() if bare else '-'}); "
          f"duplicates: {dups}", flush=True)
    if missing or dups:
        print(f"  WARNING: {missing} pairs missing, {dups} duplicated", flush=True)

    extra = {"p90_ms": percentile(lat, 90), "max_ms": max(lat) if lat else None, "pairs": len(lat),
             "missing": fan.missing(), "duplicates": fan.duplicates(), "subscribers": fan.subscribers,
             "sse_p50_ms": percentile(fan.latencies_ms("sse"), 50), "ws_p50_ms": percentile(fan.latencies_ms("ws"), 50),
             "fanout_span_median_ms": median(spans), "connect_s": fan.connect_s,
             "gateway_cpu_s": fan.gateway_cpu_s, "client_cpu_s": fan.client_cpu_s, "post_wall_s": fan.post_wall_s,
             "gateway_cpu_us_per_delivery": fan.gateway_cpu_s / max(len(fan.receipts), 1) * 1e6}
    subs = f"{fan.subscribers:,} subs"
    expected = fan.messages * fan.subscribers
    goal_note = "absolute goal; the 1-subscriber floor is the line below"
    results = [
        Result("realtime_fanout", f"post -> message.created p50 ({subs})", p50, "ms", GOAL_P50_MS, "goal", 1.0,
               note=goal_note, extra=extra),
        Result("realtime_fanout", f"post -> message.created p99 ({subs})", p99, "ms", GOAL_P99_MS, "goal", 1.0,
               note=goal_note),
        Result("realtime_fanout", f"p50 ({subs}) vs 1 subscriber", p50, "ms", f50, "1 subscriber", None,
               extra={"floor_p99_ms": f99}),
        Result("realtime_fanout", f"p99 ({subs}) vs 1 subscriber", p99, "ms", f99, "1 subscriber", None),
        Result("realtime_fanout", "(subscriber, message) pairs expected / delivered", float(expected), "pairs",
               float(expected - fan.missing()), "delivered", 1.0, note="1.00x: none missing"),
    ]
    if bare is not None:
        b = bare.latencies_ms()
        results += [
            Result("realtime_fanout", f"p50 ({subs}), bare-socket clients (diagnosis)", percentile(b, 50), "ms",
                   GOAL_P50_MS, "goal", None, note="client CPU nearly out of the figure",
                   extra={"p99_ms": percentile(b, 99), "missing": bare.missing(),
                          "gateway_cpu_us_per_delivery": bare.gateway_cpu_s / max(len(bare.receipts), 1) * 1e6}),
            Result("realtime_fanout", f"p99 ({subs}), bare-socket clients (diagnosis)", percentile(b, 99), "ms",
                   GOAL_P99_MS, "goal", None),
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-socket diagnosis round")
    args = parser.parse_args()
    print(result_rows(run(subscribers=args.subscribers, messages=args.messages, raw=not args.no_bare)))


if __name__ == "__main__":
    main()

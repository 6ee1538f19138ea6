"""One round of the fan-out benchmark (bench/realtime_fanout.py): its subscribers connect
(lean or library clients), a poster process sends the messages on a fixed schedule, and
every delivery is recorded with its arrival and read times."""
from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import connect as ws_connect

from bench.realtime_lean_clients import LeanSse, LeanWs, OnEvent, open_stream
from bench.realtime_support import Gateway, Session, sse_blocks

WARMUP = 3
INTERVAL_S = 0.1
CONNECT_CONCURRENCY = 50
SETTLE_S = 1.0
DRAIN_TIMEOUT_S = 20.0


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
    idle_cpu_s: float = 0.0  # of gateway_cpu_s, what the gateway would have used with nothing to do (if measured)
    client_cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    paths: dict[str, int] = field(default_factory=dict)  # the gateway's delivery counters over the round, if read
    member: dict[tuple[str, int], int] = field(default_factory=dict)  # (kind, sub) -> the port it connected to

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
        if total <= 0:  # a round with no subscriber (what a post alone costs) is ready at once
            self.event.set()

    def mark(self) -> None:
        self.count += 1
        if self.count >= self.total:
            self.event.set()


async def _lean_subscriber(kind: str, gw: Gateway, path: str, headers: dict[str, str], sub: int,
                           gate: asyncio.Semaphore, ready: _Ready, rnd: Round) -> None:
    async with gate:
        port = rnd.member[(kind, sub)] = gw.port  # a fleet hands out its members' ports in turn
        stream = await open_stream(LeanSse if kind == "sse" else LeanWs, "127.0.0.1", port, path, headers,
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


async def run_round(gw: Gateway, sess: Session, thread_id: str, rnd: Round, client_cpus: set[int] | None) -> Round:
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

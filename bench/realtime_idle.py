"""Idle connections: 10,000 WebSockets held open by one gateway process; its resident memory
(VmRSS): goal < 1 GiB.

Setup. The gateway (the local runtime: every HTTP function + the realtime gateway, real
SQLite store, delivery loop running; bench/realtime_server.py) runs in its own process with
the open-file limit raised to the hard limit, a 4,096 listen backlog, and the gateway's own
keep-alive knobs (STUDIO_WS_PING_S, STUDIO_WS_IDLE_S, STUDIO_SSE_HEARTBEAT_S) at an hour, so
nothing the gateway does on a timer closes or touches an idle connection during the
measurement (uvicorn's protocol-level ping stays at its 20 s default; the client library
answers it). The clients live in this process, on one asyncio loop, CONNECT_CONCURRENCY
handshakes at a time: ``websockets.asyncio.client`` with bearer + X-Tenant-Id + X-Env,
offering permessage-deflate as browsers do (so the gateway keeps a compressor per
connection, as it would in production), spread over THREADS chat threads of one tenant
(one user; 1,000 sockets per thread: a feed per thread, presence per thread).

Why WebSocket for the 10,000: it is the transport every kind of client can use (browsers,
mobile, services) and the heavier of the two per connection here, so the verdict holds for
any mix. Two smaller samples are opened on top of the 10,000 and their increments reported
beside it: SSE_SAMPLE SSE streams (lean clients, bench/realtime_lean_clients.py: the gateway's side is the same), and
SSE_SAMPLE WebSockets whose client offers no permessage-deflate (the share of compression).

Figures: VmRSS of the gateway process from /proc/<pid>/status before connecting (after a
warm-up that created the user, tenant and threads and opened and closed a few sockets on
each thread) and with the 10,000 open (after SETTLE_S); VmHWM (peak) beside it. Every socket
must still be open at the end, and a sample answers a ``ping`` frame with ``pong``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.protocol import State

from bench.common import Result, fmt_num, heading, result_rows
from bench.realtime_lean_clients import LeanSse, LeanWs, open_stream
from bench.realtime_support import Gateway, no_agent_manifest, proc_status_kib, raise_nofile, session

GOAL_MIB = 1024.0
CONNECTIONS = 10_000
THREADS = 10
SSE_SAMPLE = 1000
CONNECT_CONCURRENCY = 64
SETTLE_S = 2.0
PING_SAMPLE = 100
HOUR = "3600"


@dataclass
class Held:
    ws: list[ClientConnection] = field(default_factory=list)
    plain: list[ClientConnection] = field(default_factory=list)  # no permessage-deflate offered
    sse: list[LeanSse | LeanWs] = field(default_factory=list)
    connect_s: float = 0.0
    sse_connect_s: float = 0.0
    failures: list[str] = field(default_factory=list)


async def _open_ws(url: str, headers: dict[str, str], gate: asyncio.Semaphore, held: Held,
                   deflate: bool = True) -> None:
    async with gate:
        try:
            ws = await ws_connect(url, additional_headers=headers, open_timeout=120, ping_interval=None,
                                  close_timeout=1, compression="deflate" if deflate else None)
            hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if hello.get("type") != "hello":
                raise RuntimeError(f"first frame {hello!r}")
            held.ws.append(ws)
        except Exception as exc:  # noqa: BLE001 - counted and reported
            held.failures.append(repr(exc))


async def _open_sse(host: str, port: int, path: str, headers: dict[str, str], gate: asyncio.Semaphore,
                    held: Held) -> None:

    async with gate:
        try:
            held.sse.append(await open_stream(LeanSse, host, port, path, headers, lambda *event: None))
        except Exception as exc:  # noqa: BLE001 - counted and reported
            held.failures.append(repr(exc))


async def _ping_sample(conns: list[ClientConnection], sample: int) -> int:
    """How many of a random sample answer a ``ping`` frame with ``pong`` (the gateway still serves them)."""
    async def one(ws: ClientConnection) -> bool:
        await ws.send(json.dumps({"type": "ping"}))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            frame = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
            if frame.get("type") == "pong":
                return True
        return False

    picked = random.Random(7).sample(conns, min(sample, len(conns)))
    answers = await asyncio.gather(*(one(ws) for ws in picked), return_exceptions=True)
    return sum(a is True for a in answers)


async def _main(gw: Gateway, connections: int, threads: int, sse_sample: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=gw.base_url, timeout=30) as client:
        sess = session(client, "bench-idle")
        thread_ids = [sess.new_thread(client, f"idle-{i}") for i in range(threads)]
    held = Held()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    warm = Held()
    await asyncio.gather(*(_open_ws(f"{gw.ws_url}/ws/chat/{t}", sess.headers, gate, warm)
                           for t in thread_ids for _ in range(5)))
    await asyncio.gather(*(ws.close() for ws in warm.ws))
    if warm.failures:
        raise RuntimeError(f"warm-up sockets failed: {warm.failures[0]}")
    await asyncio.sleep(SETTLE_S)
    out["rss_before_kib"] = gw.rss_kib()
    cpu0 = gw.cpu_s()
    started = time.monotonic()
    await asyncio.gather(*(_open_ws(f"{gw.ws_url}/ws/chat/{thread_ids[i % threads]}", sess.headers, gate, held)
                           for i in range(connections)))
    held.connect_s = time.monotonic() - started
    out["connect_cpu_s"] = gw.cpu_s() - cpu0
    await asyncio.sleep(SETTLE_S)
    out["rss_ws_kib"] = gw.rss_kib()
    out["hwm_ws_kib"] = proc_status_kib(gw.pid, "VmHWM")
    out["open_ws"] = sum(ws.state is State.OPEN for ws in held.ws)
    out["pong"] = await _ping_sample(held.ws, PING_SAMPLE)
    if sse_sample:
        started = time.monotonic()
        await asyncio.gather(*(_open_sse("127.0.0.1", gw.port, f"/sse/chat/{thread_ids[i % threads]}", sess.headers,
                                         gate, held) for i in range(sse_sample)))
        held.sse_connect_s = time.monotonic() - started
        await asyncio.sleep(SETTLE_S)
        out["rss_sse_kib"] = gw.rss_kib()
        out["open_sse"] = sum(not p.closed.done() for p in held.sse)
        plain = Held()
        await asyncio.gather(*(_open_ws(f"{gw.ws_url}/ws/chat/{thread_ids[i % threads]}", sess.headers, gate, plain,
                                        deflate=False) for i in range(sse_sample)))
        held.plain, held.failures = plain.ws, held.failures + plain.failures
        await asyncio.sleep(SETTLE_S)
        out["rss_plain_kib"] = gw.rss_kib()
    out["open_ws_end"] = sum(ws.state is State.OPEN for ws in held.ws)
    out["held"] = held
    return out


async def _close(held: Held) -> None:
    for ws in held.ws + held.plain:
        ws.transport.abort()
    for proto in held.sse:
        proto.close()
    await asyncio.sleep(0.1)


def run(verbose: bool = False, connections: int = CONNECTIONS, threads: int = THREADS,
        sse_sample: int = SSE_SAMPLE) -> list[Result]:
    heading(f"realtime idle: {connections:,} idle WebSockets held by one gateway process, resident memory")
    limit = raise_nofile()
    if limit < connections + sse_sample + 200:
        raise RuntimeError(f"RLIMIT_NOFILE hard limit {limit} is too low for {connections + sse_sample} sockets")
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as tmp:
        gw = Gateway(Path(tmp), no_agent_manifest(Path(tmp)), STUDIO_WS_PING_S=HOUR, STUDIO_WS_IDLE_S=HOUR,
                     STUDIO_SSE_HEARTBEAT_S=HOUR)
        loop = asyncio.new_event_loop()
        try:
            out = loop.run_until_complete(_main(gw, connections, threads, sse_sample))
            loop.run_until_complete(_close(out["held"]))
        finally:
            gw.stop()
            loop.close()
            log_tail = gw.log_tail()
    held: Held = out["held"]
    if held.failures:
        raise RuntimeError(f"{len(held.failures)} connections failed: {held.failures[0]}\ngateway log: {log_tail}")

    mib = 1024.0
    before, with_ws = out["rss_before_kib"] / mib, out["rss_ws_kib"] / mib
    per_ws_kib = (out["rss_ws_kib"] - out["rss_before_kib"]) / connections
    print(f"  {connections:,} WebSockets over {threads} chat thread{'s' if threads != 1 else ''} connected in {held.connect_s:.1f} s "
          f"({connections / held.connect_s:,.0f}/s, {CONNECT_CONCURRENCY} handshakes at a time; gateway CPU "
          f"{out['connect_cpu_s']:.1f} s = {out['connect_cpu_s'] / connections * 1000:.2f} ms per connection)",
          flush=True)
    print(f"  gateway VmRSS: {fmt_num(before, 'MiB')} before, {fmt_num(with_ws, 'MiB')} with {connections:,} open "
          f"(peak VmHWM {fmt_num(out['hwm_ws_kib'] / mib, 'MiB')}); {per_ws_kib:.1f} KiB per WebSocket", flush=True)
    print(f"  still open after the measurement: {out['open_ws_end']:,}/{connections:,}; "
          f"{out['pong']}/{min(PING_SAMPLE, connections)} sampled sockets answered ping with pong", flush=True)
    results = [
        Result("realtime_idle", f"gateway VmRSS with {connections:,} idle WebSockets", with_ws, "MiB", GOAL_MIB,
               "1 GiB", 1.0, note="goal: < 1 GiB",
               extra={"rss_before_mib": before, "hwm_mib": out["hwm_ws_kib"] / mib, "threads": threads,
                      "connect_s": held.connect_s, "open_at_end": out["open_ws_end"], "pong": out["pong"]}),
        Result("realtime_idle", "gateway VmRSS before connecting", before, "MiB", None),
        Result("realtime_idle", "VmRSS per idle WebSocket", per_ws_kib, "KiB", GOAL_MIB * 1024 / connections,
               f"1 GiB / {connections:,}", None),
    ]
    if "rss_sse_kib" in out:
        per_sse_kib = (out["rss_sse_kib"] - out["rss_ws_kib"]) / sse_sample
        print(f"  + {sse_sample:,} SSE streams (connected in {held.sse_connect_s:.1f} s, {out['open_sse']:,} open): "
              f"VmRSS {fmt_num(out['rss_sse_kib'] / mib, 'MiB')}; {per_sse_kib:.1f} KiB per SSE stream -> "
              f"{connections:,} SSE streams would be ~{fmt_num(before + per_sse_kib * connections / mib, 'MiB')}",
              flush=True)
        per_plain_kib = (out["rss_plain_kib"] - out["rss_sse_kib"]) / sse_sample
        print(f"  + {sse_sample:,} WebSockets whose client offers no permessage-deflate: VmRSS "
              f"{fmt_num(out['rss_plain_kib'] / mib, 'MiB')}; {per_plain_kib:.1f} KiB per WebSocket -> "
              f"{per_ws_kib - per_plain_kib:.1f} KiB of each default WebSocket is its compression state", flush=True)
        results += [
            Result("realtime_idle", "VmRSS per idle SSE stream", per_sse_kib, "KiB", per_ws_kib, "per WebSocket",
                   None, extra={"sse_streams": sse_sample,
                                "projected_10k_sse_mib": before + per_sse_kib * connections / mib}),
            Result("realtime_idle", "VmRSS per idle WebSocket without permessage-deflate", per_plain_kib, "KiB",
                   per_ws_kib, "per WebSocket", None, note="diagnosis: client offers no compression"),
        ]
    if out["open_ws_end"] != connections:
        raise RuntimeError(f"only {out['open_ws_end']}/{connections} WebSockets stayed open\ngateway log: {log_tail}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--sse", type=int, default=SSE_SAMPLE, help="SSE streams opened on top (0: none)")
    args = parser.parse_args()
    print(result_rows(run(connections=args.connections, threads=args.threads, sse_sample=args.sse)))


if __name__ == "__main__":
    main()

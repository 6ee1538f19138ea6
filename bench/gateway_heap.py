"""The gateway's heap with thousands of open streams, with its heap policy and without (decision 0104).

One runtime process (``python -m infra.localrun``) per policy (``STUDIO_GATEWAY_GC``): 5,000 lean
subscribers (half SSE, half WebSocket) connect to one thread; then, through bench/gc_probe, what
one full collection of the heap costs the process, every collection that stalled it while the
streams opened, and (with the default policy, where nothing is frozen) the objects the collector
tracks per open stream, by type. Then churn: cycles of 1,000 streams opened and dropped, with the
process's resident memory and its frozen objects after each. The policy must make the collection
short and keep the churn's memory flat."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench.common import Result, heading, table
from bench.fleet_fanout import FleetGateway
from bench.realtime_lean_clients import LeanSse, LeanWs, open_stream
from bench.realtime_support import no_agent_manifest, proc_status_kib, raise_nofile, session

STREAMS = 5000
CHURN_STREAMS = 1000
CHURN_CYCLES = 4
CONNECT_CONCURRENCY = 50


def _probe(gw: FleetGateway, command: str) -> dict[str, Any]:
    """Run a gc_probe command in the gateway and return its answer."""
    base = Path(f"{gw.gc_log}-{gw.pids[0]}")
    out = Path(f"{base}.out")
    out.unlink(missing_ok=True)
    Path(f"{base}.cmd").write_text(command)
    os.kill(gw.pids[0], signal.SIGUSR2)
    deadline = time.monotonic() + 120
    while not out.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gc probe did not answer {command!r}")
        time.sleep(0.05)
    return dict(json.loads(out.read_text()))


async def _connect(gw: FleetGateway, path: str, headers: dict[str, str], count: int) -> list[LeanSse | LeanWs]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> LeanSse | LeanWs:
        async with gate:
            kind = "sse" if i % 2 else "ws"
            return await open_stream(LeanSse if kind == "sse" else LeanWs, "127.0.0.1", gw.port,
                                     f"/{kind}{path}", headers, lambda *_: None)

    return list(await asyncio.gather(*(one(i) for i in range(count))))


async def _drop(gw: FleetGateway, streams: list[LeanSse | LeanWs]) -> None:
    for stream in streams:
        stream.close()
    deadline = time.monotonic() + 60
    while httpx.get(f"{gw.base_url}/healthz/realtime", timeout=10).json()["open_streams"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the gateway did not release the streams")
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.5)  # the policy checks every second


def measure(policy: str) -> dict[str, Any]:
    raise_nofile()
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="bench-heap-", dir=shm) as tmp:
        gw = FleetGateway(Path(tmp), no_agent_manifest(Path(tmp)), 1, {"STUDIO_GATEWAY_GC": policy})
        try:
            with httpx.Client(base_url=gw.base_url, timeout=30) as client:
                sess = session(client, "bench-heap")
                path = f"/chat/{sess.new_thread(client, 'heap')}"
            return uvloop.run(_rounds(gw, policy, path, sess.headers))
        finally:
            gw.stop()


async def _rounds(gw: FleetGateway, policy: str, path: str, headers: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"policy": policy}
    before = _probe(gw, "census")["types"] if policy == "default" else {}
    started = time.time()
    streams = await _connect(gw, path, headers, STREAMS)
    out["connect_s"] = time.time() - started
    await asyncio.sleep(2.5)
    out["pauses_ms"] = sorted((sec * 1000 for at, sec in gw.gc_pauses()[0] if at >= started), reverse=True)
    if policy == "default":
        after = _probe(gw, "census")["types"]
        grown = {k: (v - before.get(k, 0)) / STREAMS for k, v in after.items()}
        out["per_stream"] = sum(grown.values())
        out["per_stream_types"] = sorted(grown.items(), key=lambda kv: -kv[1])[:12]
    out["full_collection_ms"] = _probe(gw, "collect")["seconds"] * 1000
    await _drop(gw, streams)
    out["churn"] = []
    for _ in range(CHURN_CYCLES):
        await _drop(gw, await _connect(gw, path, headers, CHURN_STREAMS))
        health = httpx.get(f"{gw.base_url}/healthz/realtime", timeout=10).json()["gc"]
        out["churn"].append((proc_status_kib(gw.pids[0]) / 1024, health["frozen_objects"]))
    return out


def run(verbose: bool = False) -> list[Result]:
    heading(f"the gateway's heap: {STREAMS:,} open streams and churn, heap policy (decision 0104) vs default")
    got = {policy: measure(policy) for policy in ("default", "freeze")}
    rows = []
    for policy, m in got.items():
        churn = m["churn"]
        rows.append([policy, f"{m['full_collection_ms']:.0f} ms", ", ".join(f"{p:.0f}" for p in m["pauses_ms"][:4]) + " ms",
                     " -> ".join(f"{rss:.0f}" for rss, _f in churn) + " MiB",
                     " -> ".join(f"{f:,}" for _r, f in churn)])
    print(table(["policy", f"full collection, {STREAMS:,} open", "longest pauses while opening",
                 f"RSS after each churn cycle ({CHURN_CYCLES} x {CHURN_STREAMS:,})", "frozen objects"], rows), flush=True)
    census = got["default"]
    print(f"  tracked objects per open stream: {census['per_stream']:.0f} ("
          + ", ".join(f"{k} {v:.1f}" for k, v in census["per_stream_types"]) + ")", flush=True)
    default, frozen = got["default"], got["freeze"]
    growth = frozen["churn"][-1][0] - frozen["churn"][0][0]
    return [
        Result("gateway_heap", f"full collection with {STREAMS:,} streams open, heap policy",
               frozen["full_collection_ms"], "ms", default["full_collection_ms"], "default thresholds", None),
        Result("gateway_heap", f"longest collection while {STREAMS:,} streams open, heap policy",
               max(frozen["pauses_ms"], default=0.0), "ms", max(default["pauses_ms"], default=0.0),
               "default thresholds", None),
        Result("gateway_heap", f"RSS growth over {CHURN_CYCLES - 1} churn cycles of {CHURN_STREAMS:,}, heap policy",
               growth, "MiB", default["churn"][-1][0] - default["churn"][0][0], "default thresholds", None),
        Result("gateway_heap", "tracked objects per open stream", census["per_stream"], "objects"),
    ]


if __name__ == "__main__":
    run(True)

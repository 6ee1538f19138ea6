"""Fan-out over a gateway fleet: 1,000 and 5,000 subscribers (half SSE, half WebSocket) on one
thread, spread evenly over 2 gateway processes (``STUDIO_GATEWAY_PROCESSES=2``, each subscriber
on one member's own port in turn), beside the same round on 1 process. Posts go to the shared
port, so about half are written by the other process than a given subscriber's: each delivery
crosses processes through the store's change feed and its wake-ups (docs/decisions/0071).

The rounds are bench/realtime_fanout_round.py's (lean clients, a post every 100 ms, every pair
checked once and in order). Reported per round: post -> message.created p50 / p99, and the
gateway CPU per delivery (all members), which the fleet simulation is calibrated on
(bench/fleet_sim.py)."""
from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import uvloop

from bench import REPO, fleet_sim, machine_load
from bench.common import Result, free_port, heading, percentile, table
from bench.fleet_sim import Calibration
from bench.machine_load import LoadSampler, LoadTrace
from bench.realtime_fanout_round import WARMUP, Round, run_round
from bench.realtime_support import no_agent_manifest, proc_status_kib, raise_nofile, session

MESSAGES = 40
# (processes, subscribers). The rounds with 0 and 2 subscribers calibrate what a post and a feed
# cost; the other 1-process rounds the cost per delivery; the 2-process rounds are predicted.
PLAN = ((1, 0), (1, 2), (1, 1000), (2, 1000), (1, 5000), (2, 5000))
URGENT_NICE = -15
IDLE_S = 1.0


class FleetGateway:
    """``python -m infra.localrun`` with N gateway processes; ``port`` hands out the members' own
    ports in turn, so the round's subscribers spread evenly over them."""

    def __init__(self, folder: Path, manifest: Path, processes: int) -> None:
        from infra.localrun import fleet

        shared = free_port()
        self.base_url = f"http://127.0.0.1:{shared}"
        self.ws_url = f"ws://127.0.0.1:{shared}"
        self.data = folder / f"data-{processes}"
        self._folder = folder
        env = {**os.environ, "PORT": str(shared), "STUDIO_DATA_DIR": str(self.data), "STUDIO_PUBLIC_URL": self.base_url,
               "STUDIO_RATE_LIMIT_PER_MINUTE": "100000000", "STUDIO_STREAMS_PER_USER": "100000000",
               "STUDIO_MANIFEST": str(manifest), "STUDIO_GATEWAY_PROCESSES": str(processes),
               "PYTHONPATH": f"{REPO / 'shared'}{os.pathsep}{REPO / 'bench' / 'gc_probe'}",
               "STUDIO_BENCH_GC_LOG": str(folder / "gc")}
        self._log = (folder / f"fleet-{processes}.log").open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "infra.localrun"], cwd=REPO, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the runtime exited ({self.proc.returncode})")
            members = fleet.members(self.data) if processes > 1 else [{"pid": self.proc.pid, "port": shared}]
            if len(members) == processes and all(_up(m["port"]) for m in members):
                break
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fleet did not start")
            time.sleep(0.1)
        self.pids = [int(m["pid"]) for m in members]
        self._ports = itertools.cycle([int(m["port"]) for m in members])

    @property
    def port(self) -> int:
        return next(self._ports)

    def cpu_s(self) -> float:
        total = 0.0
        for pid in self.pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def gc_pauses(self) -> list[list[tuple[float, float]]]:
        """Per member (in ``pids`` order), the collections that stalled it: (wall clock start, seconds)."""
        out: list[list[tuple[float, float]]] = []
        for pid in self.pids:
            log = self._folder / f"gc-{pid}"
            lines = log.read_text().split("\n") if log.exists() else []
            out.append([(float(a), float(b)) for a, b, _gen in (ln.split() for ln in lines if ln)])
        return out

    def rss_kib(self) -> int:
        return sum(proc_status_kib(pid) for pid in self.pids)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log.close()


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def _urgent() -> Iterator[None]:
    """As root, run this bench (and the processes it starts, which inherit it) ahead of other
    sessions' work: nice -15, and the same for its session's autogroup, without which the nice
    counts only against our own processes (machine_load.autogroups). Restored afterwards. What
    the others still take is measured (bench/machine_load.py) and given to the simulation."""
    if os.geteuid() != 0:
        yield
        return
    nice, group = os.getpriority(os.PRIO_PROCESS, 0), machine_load.autogroup_nice()
    os.setpriority(os.PRIO_PROCESS, 0, min(nice, URGENT_NICE))
    if group is not None and machine_load.autogroups():
        machine_load.set_autogroup_nice(min(group, URGENT_NICE))
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
        if group is not None and machine_load.autogroups():
            machine_load.set_autogroup_nice(group)


def measure(processes: int, subscribers: int, messages: int = MESSAGES) -> tuple[Round, LoadTrace]:
    raise_nofile()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        gw = FleetGateway(Path(tmp), no_agent_manifest(Path(tmp)), processes)
        try:
            with httpx.Client(base_url=gw.base_url, timeout=30) as client:
                sess = session(client, "bench-fleet")
                thread_id = sess.new_thread(client, "fleet")
            half = subscribers // 2
            rnd = Round(f"{processes}p-{subscribers}", half, subscribers - half, messages)
            # The clients' own garbage collector is the bench's, not the gateway's: a full collection
            # over 100,000s of receipts would stall every read behind it, so it waits for the round.
            gc.collect()
            cpu0 = gw.cpu_s()
            time.sleep(IDLE_S)  # what the process burns with nothing to do (timers, polls), not the posts'
            idle_per_s = (gw.cpu_s() - cpu0) / IDLE_S
            gc.disable()
            try:
                with LoadSampler() as trace:
                    rnd = uvloop.run(run_round(gw, sess, thread_id, rnd, None))  # type: ignore[arg-type]
            finally:
                gc.enable()
            rnd.idle_cpu_s = idle_per_s * rnd.post_wall_s
            trace.pauses = gw.gc_pauses()
        finally:
            gw.stop()
    if rnd.errors:
        raise RuntimeError(f"{rnd.label}: {rnd.errors[0]}")
    return rnd, trace


def run(verbose: bool = False, plan: tuple[tuple[int, int], ...] = PLAN) -> list[Result]:
    heading("fan-out over a gateway fleet: subscribers spread over 2 processes vs 1")
    rows, results = [], []
    by: dict[tuple[int, int], tuple[Round, LoadTrace]] = {}
    with _urgent():
        for processes, subscribers in plan:
            by[(processes, subscribers)] = measure(processes, subscribers)
    for (processes, subscribers), (rnd, trace) in by.items():
        if not subscribers:
            continue
        lat = rnd.latencies_ms()
        per = rnd.gateway_cpu_s / max(len(rnd.receipts), 1) * 1e6
        _ours, others, steal = trace.between(min(rnd.t0.values()), max(rnd.t0.values()))
        rows.append([str(processes), f"{subscribers:,}", f"{percentile(lat, 50):.1f} ms", f"{percentile(lat, 99):.1f} ms",
                     f"{per:.0f} us", f"{rnd.exact():,}/{rnd.messages * rnd.subscribers:,}",
                     f"{others:.2f} + {steal:.2f}"])
        read = rnd.latencies_ms(read=True)
        print(f"  {processes} process(es), {subscribers:,} subscribers: p50 {percentile(lat, 50):.1f} ms, "
              f"p99 {percentile(lat, 99):.1f} ms (read by the client: {percentile(read, 50):.1f} / "
              f"{percentile(read, 99):.1f} ms), {per:.0f} us gateway + "
              f"{rnd.client_cpu_s / max(len(rnd.receipts), 1) * 1e6:.0f} us client CPU per delivery; other "
              f"sessions used {others:.2f} cores ({trace.urgent_share:.0%} of it as urgent as ours), steal "
              f"{steal:.2f}", flush=True)
    print(table(["processes", "subscribers", "p50", "p99", "CPU/delivery", "exact pairs", "others + steal (cores)"],
                rows), flush=True)
    for (processes, subscribers), (rnd, _trace) in by.items():
        if not subscribers:
            continue
        lat = rnd.latencies_ms()
        single = by.get((1, subscribers))
        base50 = percentile(single[0].latencies_ms(), 50) if single and processes > 1 else None
        base99 = percentile(single[0].latencies_ms(), 99) if single and processes > 1 else None
        extra = {"cpu_us_per_delivery": rnd.gateway_cpu_s / max(len(rnd.receipts), 1) * 1e6,
                 "exact": rnd.exact(), "pairs": rnd.messages * rnd.subscribers}
        results += [
            Result("fleet_fanout", f"p50, {subscribers:,} subs on {processes} process(es)", percentile(lat, 50), "ms",
                   base50, "1 process" if base50 is not None else "", None, extra=extra),
            Result("fleet_fanout", f"p99, {subscribers:,} subs on {processes} process(es)", percentile(lat, 99), "ms",
                   base99, "1 process" if base99 is not None else "", None),
        ]
    return results + validate(by)


def calibrate(by: dict[tuple[int, int], tuple[Round, LoadTrace]], subscribers: int) -> Calibration | None:
    """The simulation's costs for a round of ``subscribers``, from the 1-process rounds only: with no
    subscriber, what a post costs the gateway (less what the process burns idle, measured before the
    round); with 2, plus one feed; with ``subscribers``, the cost per delivery (the slope from 2) and
    the client's CPU per delivery; and the 2-subscriber p50 less that CPU, the listener latency. Per
    size, not one line through all: a delivery costs more when 5,000 sockets churn the caches."""
    singles = {s: rnd for (p, s), (rnd, _t) in by.items() if p == 1}
    if not {0, 2, subscribers} <= set(singles):
        return None
    collected = {s: sum(sec for member in t.pauses for at, sec in member if at >= min(r.t0.values()))
                 for (p, s), (r, t) in by.items() if p == 1}

    def per_message_ms(rnd: Round) -> float:  # less the collections, which the simulation replays apart
        spent = rnd.gateway_cpu_s - rnd.idle_cpu_s - collected[rnd.subscribers]
        return spent / (WARMUP + rnd.messages) * 1000

    post = per_message_ms(singles[0])
    slope = (per_message_ms(singles[subscribers]) - per_message_ms(singles[2])) / (subscribers - 2)
    feed = max(per_message_ms(singles[2]) - 2 * slope - post, 0.05)
    big = singles[subscribers]
    client = big.client_cpu_s / max(len(big.receipts), 1) * 1e6
    floor = percentile(singles[2].latencies_ms(), 50) - post - feed - 2 * slope
    return replace(fleet_sim.CALIBRATION, floor_ms=max(floor, 0.0), post_ms=post, feed_ms=feed,
                   delivery_us=slope * 1000, client_us=client)


def predicted(rnd: Round, trace: LoadTrace, processes: int, cal: Calibration) -> fleet_sim.Deliveries:
    """The round replayed in the simulation: its own post times, and window by window the cores the
    others left (measured during this round, bench/machine_load.py)."""
    first = min(rnd.t0.values())
    capacity = fleet_sim.Capacity(float(trace.cores), [w.start - first for w in trace.windows],
                                  [trace.taken(w) for w in trace.windows])
    pauses = [[(t - first, seconds) for t, seconds in member if t >= first] for member in trace.pauses]
    return fleet_sim.predict_local(processes, rnd.subscribers, cal, [rnd.t0[i] - first for i in sorted(rnd.t0)],
                                   capacity, warmup=WARMUP, pauses=pauses)


def validate(by: dict[tuple[int, int], tuple[Round, LoadTrace]]) -> list[Result]:
    """Fit the simulation on the 1-process rounds, predict the 2-process ones, then the target."""
    out, rows = [], []
    sizes = sorted({s for _p, s in by if s >= 100})
    cals = {s: cal for s in sizes if (cal := calibrate(by, s)) is not None}
    for subscribers, cal in cals.items():
        print(f"  simulation calibrated on the 1-process rounds, {subscribers:,} subscribers: listener "
              f"{cal.floor_ms:.2f} ms, post {cal.post_ms:.2f} ms + feed {cal.feed_ms:.2f} ms CPU per message, "
              f"{cal.delivery_us:.1f} us gateway + {cal.client_us:.1f} us client CPU per delivery", flush=True)
    if not cals:
        return []
    for (processes, subscribers), (rnd, trace) in sorted(by.items()):
        if subscribers not in cals:
            continue
        cal = cals[subscribers]
        sim = predicted(rnd, trace, processes, cal)
        role = "predicted" if processes > 1 else "fitted on"
        for where, read in (("socket", False), ("read", True)):
            for name, p in (("p50", 50), ("p99", 99)):
                measured, simulated = percentile(rnd.latencies_ms(read=read), p), percentile(sim.ms(read=read), p)
                ratio = measured / simulated
                rows.append([f"{processes}", f"{subscribers:,}", f"{name} {where}", f"{measured:.1f} ms",
                             f"{simulated:.1f} ms", f"{ratio:.2f}x", role])
                if processes > 1:
                    out.append(Result(
                        "fleet_sim", f"{name} post -> {where}, {subscribers:,} subs on {processes} processes: "
                        "measured / simulated, either way", max(ratio, 1 / ratio), "x", 1.0, "exact", 1.25,
                        note=f"measured {measured:.1f} ms, simulated {simulated:.1f} ms; within 25 % either way",
                        extra={"measured_ms": measured, "simulated_ms": simulated}))
    print(table(["processes", "subscribers", "latency", "measured", "simulated", "ratio", "rounds"], rows), flush=True)
    sizing = fleet_sim.target_sizing(cals[min(cals)])  # an instance holds ~800 clients: the smaller round's costs
    print(f"  target: {sizing['fleet_instances']:,} instances x {sizing['instance_gib']} GiB, "
          f"p99 {sizing['p99_ms']:.1f} ms, ${sizing['usd_per_million_delivered']:.3f} per million delivered", flush=True)
    out += [Result("fleet_sim", "target: gateway instances", float(sizing["fleet_instances"]), "instances"),
            Result("fleet_sim", "target: p99 delivery (simulated)", sizing["p99_ms"], "ms"),
            Result("fleet_sim", "target: USD per million delivered messages", sizing["usd_per_million_delivered"],
                   "USD")]
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="*", default=[1000, 5000])
    args = parser.parse_args()
    run(True, ((1, 0), (1, 2), *((p, s) for s in args.subscribers for p in (1, 2))))

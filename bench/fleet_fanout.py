"""Fan-out over a gateway fleet: 1,000 and 5,000 subscribers (half SSE, half WebSocket) on one
thread, spread evenly over 2 gateway processes (``STUDIO_GATEWAY_PROCESSES=2``, each subscriber
on one member's own port in turn), beside the same round on 1 process. The posts go to member 0,
so half the subscribers get each message from the other member: it crosses processes through the
store's change feed and its wake-ups (docs/decisions/0071).

The rounds are bench/realtime_fanout_round.py's (lean clients, a post every 100 ms, every pair
checked once and in order). As root the bench takes priority over other sessions (nice and autogroup
-15), pins the gateway's members to the first core and the clients to the last, keeps the store in
memory, and measures what other sessions still take (bench/machine_load.py) and every garbage
collection of the gateways (bench/gc_probe). Reported per round: post -> message.created p50 / p99,
the gateway and client CPU per delivery. Then the simulation (bench/fleet_sim.py), calibrated on the
1-process rounds only, predicts the 2-process rounds beside their measured figures (decision 0079)."""
from __future__ import annotations

import gc
import itertools
import math
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx
import uvloop

from bench import REPO, fleet_sim, machine_load
from bench.common import Result, free_port, heading, percentile, table
from bench.fleet_sim import Calibration
from bench.machine_load import LoadSampler, LoadTrace
from bench.realtime_fanout_round import INTERVAL_S, WARMUP, Round, run_round
from bench.realtime_support import no_agent_manifest, proc_status_kib, raise_nofile, session

MESSAGES = 150  # 40 left a p99 decided by one or two batches (decisions 0079, 0105)
# (processes, subscribers). The rounds with 0 and 2 subscribers calibrate what a post and a feed
# cost; the other 1-process rounds the cost per delivery; the 2-process rounds are predicted.
PLAN = ((1, 0), (1, 2), (1, 1000), (2, 1000), (1, 5000), (2, 5000))
STALL_S = 0.002
IDLE_S = 1.0


class FleetGateway:
    """``python -m infra.localrun`` with N gateway processes; ``port`` hands out the members' own
    ports in turn, so the round's subscribers spread evenly over them."""

    def __init__(self, folder: Path, manifest: Path, processes: int, env: dict[str, str] | None = None) -> None:
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
               "STUDIO_BENCH_GC_LOG": str(folder / "gc"), **(env or {})}
        self.gc_log = folder / "gc"
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
        # Every request of the bench (the session, the poster's keep-alive POSTs) goes to member 0, so
        # the simulation knows which member runs the posts; subscribers spread over all (``port``).
        self.base_url = f"http://127.0.0.1:{int(members[0]['port'])}"
        self._members = [int(m["port"]) for m in members]
        self._ports = itertools.cycle(self._members)

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

    def deliveries(self) -> dict[str, int]:
        """How the members wrote their events so far, summed (/healthz/realtime): ``direct`` by the
        fan-out itself, ``by_task`` through the connection's task (a queued event: the costlier path)."""
        total: dict[str, int] = {}
        for port in self._members:
            stats = httpx.get(f"http://127.0.0.1:{port}/healthz/realtime", timeout=10).json()["deliveries"]
            for key, value in stats.items():
                total[key] = total.get(key, 0) + int(value)
        return total

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


def pin(pid: int, cpu: int) -> None:
    """Every thread of ``pid`` on one core (threads started later inherit it from their creator)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), {cpu})
        except (ProcessLookupError, FileNotFoundError):
            continue


def placement(processes: int) -> list[int]:
    """The core of each gateway member, then of the client process: the gateway's members share the
    first core(s), the client gets the last to itself. One process and two then have the same CPU to
    work with, and the clients (which deployed are other machines) cannot slow the gateway down;
    left to the scheduler, two of ours sometimes queue on one core while the other runs someone else."""
    cpus = sorted(os.sched_getaffinity(0))
    gateway = cpus[:-1] or cpus
    return [gateway[i % len(gateway)] for i in range(processes)] + [cpus[-1]]


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def measure(processes: int, subscribers: int, messages: int = MESSAGES) -> tuple[Round, LoadTrace]:
    raise_nofile()
    # In memory: the store's checkpoints fsync, and on a disk other sessions are writing to an fsync
    # can stall the gateway's loop for a quarter of a second (deployed, the store is Firestore).
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="bench-fleet-", dir=shm) as tmp:
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
            paths0 = gw.deliveries()
            cores = placement(processes)
            for pid, cpu in zip(gw.pids, cores, strict=False):
                pin(pid, cpu)
            allowed = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {cores[-1]})
            gc.disable()
            try:
                with LoadSampler() as trace:
                    rnd = uvloop.run(run_round(gw, sess, thread_id, rnd, {cores[0]}))  # type: ignore[arg-type]
            finally:
                gc.enable()
                os.sched_setaffinity(0, allowed)
            trace.placement = [sorted(allowed).index(c) for c in cores]
            rnd.idle_cpu_s = idle_per_s * rnd.post_wall_s
            trace.pauses = gw.gc_pauses()
            rnd.paths = {k: v - paths0.get(k, 0) for k, v in gw.deliveries().items()}
        finally:
            gw.stop()
    if rnd.errors:
        raise RuntimeError(f"{rnd.label}: {rnd.errors[0]}")
    return rnd, trace


def run(verbose: bool = False, plan: tuple[tuple[int, int], ...] = PLAN, messages: int = MESSAGES,
        save: Path | None = None, replay: Path | None = None) -> list[Result]:
    """Measure the rounds of ``plan`` (or, with ``replay``, read the rounds a run saved), report them,
    and predict the 2-process rounds. ``save`` keeps the rounds, so a change of the simulation is
    judged on rounds already measured instead of new runs on a shared machine."""
    heading("fan-out over a gateway fleet: subscribers spread over 2 processes vs 1")
    rows, results = [], []
    by: dict[tuple[int, int], tuple[Round, LoadTrace]] = {}
    if replay is not None:
        by = pickle.loads(replay.read_bytes())  # noqa: S301 - a file this bench wrote
    else:
        with machine_load.urgent():
            for processes, subscribers in plan:
                by[(processes, subscribers)] = measure(processes, subscribers, messages)
    if save is not None:
        save.write_bytes(pickle.dumps(by))
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
              f"{steal:.2f}; {rnd.paths.get('by_task', 0):,} of {sum(rnd.paths.values()):,} writes through a "
              f"connection's task (the slow path); collections >= 1 ms: "
              f"{', '.join(f'{sec * 1000:.0f}' for m in trace.pauses for at, sec in m if at >= min(rnd.t0.values()))}"
              " ms", flush=True)
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


def stalls(rnd: Round, cal: Calibration, collections: list[tuple[float, float]]) -> tuple[fleet_sim.Stalls,
                                                                                          fleet_sim.Stalls]:
    """What a 1-process round's loop lost that its CPU work does not explain, counted once along the
    round's timeline: each batch should have ended its deliveries' CPU after it could start (post +
    listener + feed + one delivery after its post, or when the previous batch ended, whichever is
    later); what it ended later than that is a stall. A batch that waited for a late previous one is
    not charged that wait again (counting each overlapping batch's own span did, and replayed one slow
    stretch as several stalls). Excess under 2 ms is measurement noise, not a stall. Split by cause:
    the process's own, as long as the collections the gc probe logged between the post and the
    batch's end (drawn for each member of a predicted round), and the rest, the core's (the loop was
    runnable and did not run: drawn once per core, for every member pinned to it at once)."""
    arrivals: dict[int, list[float]] = {}
    for _k, _s, m, arrived, _read in rnd.receipts:
        if m >= WARMUP:
            arrivals.setdefault(m, []).append(arrived)
    own: list[float] = []
    core: list[float] = []
    free_at = -math.inf
    first_write = (cal.post_ms + cal.floor_ms + cal.feed_ms + cal.delivery_us / 1000) / 1000
    for m in sorted(arrivals):
        last = max(arrivals[m])
        start = max(rnd.t0[m] + first_write, free_at)
        lost = last - (start + (len(arrivals[m]) - 1) * cal.delivery_us / 1e6)
        if lost > STALL_S:
            collected = sum(sec for at, sec in collections if at < last and at + sec > rnd.t0[m])
            if min(lost, collected) > STALL_S:
                own.append(min(lost, collected))
            if lost - collected > STALL_S:
                core.append(lost - collected)
        free_at = max(free_at, last)
    wall = max(rnd.post_wall_s, 1e-9)
    return fleet_sim.Stalls(len(own) / wall, tuple(own)), fleet_sim.Stalls(len(core) / wall, tuple(core))


def _collections(trace: LoadTrace) -> list[tuple[float, float]]:
    """The 1-process round's gateway collections (bench/gc_probe): (wall clock start, seconds)."""
    return list(trace.pauses[0]) if trace.pauses else []


def predicted(rnd: Round, trace: LoadTrace, processes: int, cal: Calibration,
              stall: tuple[fleet_sim.Stalls, fleet_sim.Stalls]) -> dict[tuple[str, int], tuple[float, float, float]]:
    """The round replayed in the simulation: its poster's schedule (a post due every INTERVAL_S, sent
    once the previous one is answered: the simulation delays what a stall of the posting member
    delays), window by window the cores the others left (measured during this round,
    bench/machine_load.py), the processes pinned as they were, and stalls as often and as long as the
    1-process round of the same size had them."""
    first = min(rnd.t0.values())
    capacity = fleet_sim.Capacity(float(trace.cores), [w.start - first for w in trace.windows],
                                  [trace.taken(w) for w in trace.windows])
    return fleet_sim.predicted_percentiles(processes, rnd.subscribers, cal, [i * INTERVAL_S for i in sorted(rnd.t0)],
                                           capacity, WARMUP, stall[0], trace.placement or None,
                                           core_stalls=stall[1])


def validate(by: dict[tuple[int, int], tuple[Round, LoadTrace]]) -> list[Result]:
    """Fit the simulation on the 1-process rounds, predict the 2-process ones, then the target."""
    out, rows = [], []
    sizes = sorted({s for _p, s in by if s >= 100})
    cals = {s: cal for s in sizes if (cal := calibrate(by, s)) is not None}
    found = {s: stalls(by[(1, s)][0], cal, _collections(by[(1, s)][1])) for s, cal in cals.items()}
    for subscribers, cal in cals.items():
        own, core = found[subscribers]
        print(f"  simulation calibrated on the 1-process rounds, {subscribers:,} subscribers: listener "
              f"{cal.floor_ms:.2f} ms, post {cal.post_ms:.2f} ms + feed {cal.feed_ms:.2f} ms CPU per message, "
              f"{cal.delivery_us:.1f} us gateway + {cal.client_us:.1f} us client CPU per delivery; stalls with a "
              f"collection {own.per_s:.1f}/s of {', '.join(f'{x * 1000:.0f}' for x in sorted(own.seconds))} ms, "
              f"of the core {core.per_s:.1f}/s of {', '.join(f'{x * 1000:.0f}' for x in sorted(core.seconds))} ms",
              flush=True)
    if not cals:
        return []
    for (processes, subscribers), (rnd, trace) in sorted(by.items()):
        if subscribers not in cals:
            continue
        sim = predicted(rnd, trace, processes, cals[subscribers], found[subscribers])
        role = "predicted" if processes > 1 else "fitted on"
        for where, read in (("socket", False), ("read", True)):
            for name, p in (("p50", 50), ("p99", 99)):
                measured, (low, simulated, high) = percentile(rnd.latencies_ms(read=read), p), sim[(where, p)]
                ratio = measured / simulated
                rows.append([f"{processes}", f"{subscribers:,}", f"{name} {where}", f"{measured:.1f} ms",
                             f"{simulated:.1f} ms", f"{low:.1f}-{high:.1f} ms", f"{ratio:.2f}x", role])
                if processes > 1:
                    out.append(Result(
                        "fleet_sim", f"{name} post -> {where}, {subscribers:,} subs on {processes} processes: "
                        "measured / simulated, either way", max(ratio, 1 / ratio), "x", 1.0, "exact", 1.25,
                        note=f"measured {measured:.1f} ms, simulated {simulated:.1f} ms; within 25 % either way",
                        extra={"measured_ms": measured, "simulated_ms": simulated, "simulated_range_ms": [low, high]}))
    print(table(["processes", "subscribers", "latency", "measured", "simulated (median)", "draws", "ratio", "rounds"],
                rows), flush=True)
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
    parser.add_argument("--messages", type=int, default=MESSAGES, help="posts per round after the warm-up")
    parser.add_argument("--save", type=Path, help="keep the measured rounds in this file")
    parser.add_argument("--replay", type=Path, help="simulate the rounds a --save kept instead of measuring")
    args = parser.parse_args()
    run(True, ((1, 0), (1, 2), *((p, s) for s in args.subscribers for p in (1, 2))), args.messages, args.save,
        args.replay)

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

import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import uvloop

from bench import REPO
from bench.common import Result, free_port, heading, percentile, table
from bench.realtime_fanout_round import WARMUP, Round, run_round
from bench.realtime_support import no_agent_manifest, proc_status_kib, raise_nofile, session

MESSAGES = 20
PLAN = ((1, 2), (1, 1000), (2, 1000), (1, 5000), (2, 5000))


class FleetGateway:
    """``python -m infra.localrun`` with N gateway processes; ``port`` hands out the members' own
    ports in turn, so the round's subscribers spread evenly over them."""

    def __init__(self, folder: Path, manifest: Path, processes: int) -> None:
        from infra.localrun import fleet

        shared = free_port()
        self.base_url = f"http://127.0.0.1:{shared}"
        self.ws_url = f"ws://127.0.0.1:{shared}"
        self.data = folder / f"data-{processes}"
        env = {**os.environ, "PORT": str(shared), "STUDIO_DATA_DIR": str(self.data), "STUDIO_PUBLIC_URL": self.base_url,
               "STUDIO_RATE_LIMIT_PER_MINUTE": "100000000", "STUDIO_STREAMS_PER_USER": "100000000",
               "STUDIO_MANIFEST": str(manifest), "STUDIO_GATEWAY_PROCESSES": str(processes),
               "PYTHONPATH": str(REPO / "shared")}
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


def measure(processes: int, subscribers: int, messages: int = MESSAGES) -> Round:
    raise_nofile()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        gw = FleetGateway(Path(tmp), no_agent_manifest(Path(tmp)), processes)
        try:
            with httpx.Client(base_url=gw.base_url, timeout=30) as client:
                sess = session(client, "bench-fleet")
                thread_id = sess.new_thread(client, "fleet")
            half = subscribers // 2
            rnd = Round(f"{processes}p-{subscribers}", half, subscribers - half, messages)
            rnd = uvloop.run(run_round(gw, sess, thread_id, rnd, None))  # type: ignore[arg-type]
        finally:
            gw.stop()
    if rnd.errors:
        raise RuntimeError(f"{rnd.label}: {rnd.errors[0]}")
    return rnd


def run(verbose: bool = False, plan: tuple[tuple[int, int], ...] = PLAN) -> list[Result]:
    heading("fan-out over a gateway fleet: subscribers spread over 2 processes vs 1")
    rows, results = [], []
    by: dict[tuple[int, int], Round] = {}
    for processes, subscribers in plan:
        rnd = measure(processes, subscribers)
        by[(processes, subscribers)] = rnd
        lat = rnd.latencies_ms()
        per = rnd.gateway_cpu_s / max(len(rnd.receipts), 1) * 1e6
        rows.append([str(processes), f"{subscribers:,}", f"{percentile(lat, 50):.1f} ms", f"{percentile(lat, 99):.1f} ms",
                     f"{per:.0f} us", f"{rnd.exact():,}/{rnd.messages * rnd.subscribers:,}"])
        read = rnd.latencies_ms(read=True)
        print(f"  {processes} process(es), {subscribers:,} subscribers: p50 {percentile(lat, 50):.1f} ms, "
              f"p99 {percentile(lat, 99):.1f} ms (read by the client: {percentile(read, 50):.1f} / "
              f"{percentile(read, 99):.1f} ms), {per:.0f} us gateway + "
              f"{rnd.client_cpu_s / max(len(rnd.receipts), 1) * 1e6:.0f} us client CPU per delivery", flush=True)
    print(table(["processes", "subscribers", "p50", "p99", "CPU/delivery", "exact pairs"], rows), flush=True)
    for (processes, subscribers), rnd in by.items():
        lat = rnd.latencies_ms()
        single = by.get((1, subscribers))
        base50 = percentile(single.latencies_ms(), 50) if single and processes > 1 else None
        base99 = percentile(single.latencies_ms(), 99) if single and processes > 1 else None
        extra = {"cpu_us_per_delivery": rnd.gateway_cpu_s / max(len(rnd.receipts), 1) * 1e6,
                 "exact": rnd.exact(), "pairs": rnd.messages * rnd.subscribers}
        results += [
            Result("fleet_fanout", f"p50, {subscribers:,} subs on {processes} process(es)", percentile(lat, 50), "ms",
                   base50, "1 process" if base50 is not None else "", None, extra=extra),
            Result("fleet_fanout", f"p99, {subscribers:,} subs on {processes} process(es)", percentile(lat, 99), "ms",
                   base99, "1 process" if base99 is not None else "", None),
        ]
    return results + validate(by)


def validate(by: dict[tuple[int, int], Round]) -> list[Result]:
    """Fit the simulation on the 1-process rounds, predict the 2-process ones, then the target."""
    from bench import fleet_sim

    floor = by.get((1, 2))
    singles = {s: rnd for (p, s), rnd in by.items() if p == 1 and s > 2}
    if floor is None or not singles:
        return []
    def per_message_ms(rnd: Round) -> float:
        return rnd.gateway_cpu_s / (WARMUP + rnd.messages) * 1000

    client = [rnd.client_cpu_s / max(len(rnd.receipts), 1) * 1e6 for rnd in singles.values()]
    cal = fleet_sim.fit(percentile(floor.latencies_ms(), 50),
                        {s: per_message_ms(r) for s, r in {2: floor, **singles}.items()}, sum(client) / len(client))
    print(f"  simulation calibrated: listener {cal.floor_ms:.1f} ms, post {cal.post_ms:.2f} ms + feed "
          f"{cal.feed_ms:.2f} ms CPU per message, {cal.delivery_us:.1f} us gateway + {cal.client_us:.1f} us client "
          "CPU per delivery", flush=True)
    out = []
    for (processes, subscribers), rnd in sorted(by.items()):
        if processes < 2:
            continue
        # Other sessions share this machine's cores: how many runnable processes they add is fitted on
        # the 1-process round of the same size (run just before), then held for the 2-process one.
        cores = float(len(os.sched_getaffinity(0)))
        single = by.get((1, subscribers))
        background = 0.0
        if single is not None:
            background = fleet_sim.fit_background(subscribers, percentile(single.latencies_ms(read=True), 50), cal,
                                                  cores)
        p50, p99 = fleet_sim.predict_local(processes, subscribers, cal, cores=cores, background=background)
        lat = rnd.latencies_ms(read=True)  # the simulation's clients share the machine: compare where they read
        for name, measured, predicted in (("p50", percentile(lat, 50), p50), ("p99", percentile(lat, 99), p99)):
            print(f"  {processes} processes, {subscribers:,} subs: {name} measured {measured:.1f} ms, "
                  f"simulated {predicted:.1f} ms ({measured / predicted:.2f}x; {background:.2f} other runnable "
                  "processes, fitted on the 1-process round)", flush=True)
            out.append(Result("fleet_sim", f"{name} post -> read, {subscribers:,} subs on {processes} processes: "
                              "measured vs simulated", measured, "ms", predicted, "simulation", 1.25,
                              note="within 25 %: between 0.8x and 1.25x"))
    sizing = fleet_sim.target_sizing(cal)
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
    run(True, ((1, 2), *((p, s) for s in args.subscribers for p in (1, 2))))

"""A discrete-event simulation of the realtime gateway fleet, calibrated on this machine's
measured figures (bench/fleet_fanout.py, bench/realtime_idle.py), and the sizing it gives for
the studio's target (docs/scale.md).

Model. A machine has ``cores`` CPUs shared by processes (processor sharing: n runnable processes
each run at min(1, cores / n)); a process runs its work items in order. A gateway process is one
event loop. A message posted at t costs ``post_ms`` of CPU on the process that takes the POST
(locally: any member; deployed: the chat function, not the gateway); once committed, every
instance holding a subscriber of the thread receives it ``floor_ms`` later (store -> listener ->
loop) and runs ``feed_ms`` once, then ``delivery_us`` per local subscriber: the k-th subscriber's
latency ends when its write completes. Locally the subscribers are in one more process on the
same machine (``client_us`` per delivery), which is why 2 gateway processes on 2 shared cores are
not twice one.

    python -m bench.fleet_sim            # the target's sizing, with the calibration in CALIBRATION
"""
from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from bench.common import percentile


@dataclass(frozen=True)
class Calibration:
    floor_ms: float  # commit -> an instance's loop has the change (listener latency), no CPU of ours
    post_ms: float  # CPU of one POST (kernel, validation, the store transaction)
    feed_ms: float  # CPU per message per instance holding the thread (listener, decode, hop to the loop)
    delivery_us: float  # gateway CPU per subscriber per message (frame + socket write)
    client_us: float = 0.0  # subscriber-side CPU per delivery when the clients share the machine
    idle_kib: float = 47.0  # resident memory per idle connection
    base_mib: float = 92.3  # an instance's resident memory with no connection (runtime + library)


# Measured on this machine on 2026-12-01 (docs/scale.md gives the runs); fleet_fanout refits it on
# every ``make bench`` before it predicts its own 2-process rounds.
CALIBRATION = Calibration(floor_ms=2.0, post_ms=3.0, feed_ms=1.0, delivery_us=20.0, client_us=12.0)


@dataclass
class _Proc:
    work: deque[tuple[float, Any]]  # (CPU seconds left, what finishing it means)

    def runnable(self) -> bool:
        return bool(self.work)


def simulate(instances: list[dict[int, int]], rate_per_thread: float, duration_s: float, cal: Calibration, *,
             cores: float = 1.0, clients_local: bool = False, posts_local: bool = False, seed: int = 7,
             arrivals: str = "poisson", background: float = 0.0) -> list[float]:
    """``instances``: per gateway instance, {thread: local subscribers}. Messages arrive on each thread
    at ``rate_per_thread`` (Poisson, or ``periodic`` as the benchmark posts). ``cores`` CPUs are shared
    by the instances (and the client process when ``clients_local``). Returns every delivery's latency
    in ms: post -> the subscriber's bytes written, or, with ``clients_local``, -> read by the client
    process, which on a shared machine can be the bottleneck. ``background``: other runnable processes on the
    machine (other sessions' load), which take their share of the cores."""
    rng = random.Random(seed)
    threads = sorted({t for inst in instances for t in inst})
    events: list[tuple[float, int, str, Any]] = []  # (time, tie, kind, payload)
    tie = 0
    for thread in threads:
        t = rng.random() / rate_per_thread if arrivals == "periodic" else rng.expovariate(rate_per_thread)
        while t < duration_s:
            events.append((t, tie, "post", (t, thread)))
            tie += 1
            t += 1 / rate_per_thread if arrivals == "periodic" else rng.expovariate(rate_per_thread)
    heapq.heapify(events)
    gateways = [_Proc(deque()) for _ in instances]
    client = _Proc(deque())
    procs = gateways + ([client] if clients_local else [])
    latencies: list[float] = []
    now = 0.0
    while events or any(p.runnable() for p in procs):
        running = [p for p in procs if p.runnable()]
        if not running:
            now = max(now, events[0][0])
        while events and events[0][0] <= now:
            _t, _tie, kind, payload = heapq.heappop(events)
            if kind == "post":
                posted, thread = payload
                if posts_local:
                    gateways[rng.randrange(len(gateways))].work.append((cal.post_ms / 1000, ("committed", payload)))
                else:
                    heapq.heappush(events, (posted + cal.post_ms / 1000 + cal.floor_ms / 1000, tie, "feed", payload))
                    tie += 1
            else:  # the change reaches every instance holding the thread
                posted, thread = payload
                for gw, inst in zip(gateways, instances, strict=True):
                    if thread in inst:
                        gw.work.append((cal.feed_ms / 1000, None))
                        gw.work.extend((cal.delivery_us / 1e6, ("delivered", posted)) for _ in range(inst[thread]))
        running = [p for p in procs if p.runnable()]
        if not running:
            continue
        speed = min(1.0, cores / (len(running) + background))
        # Advance to the first completion or the next arrival, whichever comes first.
        step = min(p.work[0][0] for p in running) / speed
        if events:
            step = min(step, max(events[0][0] - now, 0.0))
        now += step
        for p in running:
            left, what = p.work[0]
            left -= step * speed
            if left > 1e-12:
                p.work[0] = (left, what)
                continue
            p.work.popleft()
            if what is None:
                continue
            if what[0] == "delivered":
                if clients_local:  # measured where the client's code reads it (it may fall behind)
                    client.work.append((cal.client_us / 1e6, ("read", what[1])))
                else:
                    latencies.append((now - what[1]) * 1000)
            elif what[0] == "read":
                latencies.append((now - what[1]) * 1000)
            elif what[0] == "committed":
                heapq.heappush(events, (now + cal.floor_ms / 1000, tie, "feed", what[1]))
                tie += 1
    return latencies


def predict_local(processes: int, subscribers: int, cal: Calibration, interval_s: float = 0.1,
                  messages: int = 50, cores: float = 2.0, background: float = 0.0) -> tuple[float, float]:
    """The fan-out bench's round on this machine: one thread, ``subscribers`` spread evenly over
    ``processes``, a post every interval to any member, the clients in one more process, and
    ``background`` runnable processes of other sessions. p50 and p99 of post -> read by the client."""
    per = subscribers // processes
    lat = simulate([{0: per} for _ in range(processes)], 1 / interval_s, messages * interval_s, cal,
                   cores=cores, clients_local=True, posts_local=True, arrivals="periodic", background=background)
    return percentile(lat, 50), percentile(lat, 99)


def fit_background(subscribers: int, measured_p50_ms: float, cal: Calibration, cores: float) -> float:
    """How many runnable processes of other sessions make the 1-process round's simulated p50 match
    the measured one (bisection: latency grows with them)."""
    lo, hi = 0.0, 8.0
    for _ in range(10):
        mid = (lo + hi) / 2
        if predict_local(1, subscribers, cal, cores=cores, background=mid, messages=30)[0] < measured_p50_ms:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def fit(floor_p50_ms: float, cpu_per_message_ms: dict[int, float], client_us: float,
        base: Calibration = CALIBRATION) -> Calibration:
    """From 1-process rounds: gateway CPU per message against subscribers is a line whose slope is
    the per-delivery cost and whose intercept is the post plus the feed (split 3:1, the share a
    cProfile of the post path gives); the 2-subscriber p50 less that CPU is the listener latency."""
    xs = sorted(cpu_per_message_ms)
    if len(xs) >= 2:
        slope = (cpu_per_message_ms[xs[-1]] - cpu_per_message_ms[xs[0]]) / (xs[-1] - xs[0])
        intercept = max(cpu_per_message_ms[xs[0]] - slope * xs[0], 0.0)
    else:
        slope, intercept = base.delivery_us / 1000, base.post_ms + base.feed_ms
    post, feed = intercept * 0.75, intercept * 0.25
    return replace(base, floor_ms=max(floor_p50_ms - intercept, 0.2), post_ms=post, feed_ms=feed,
                   delivery_us=slope * 1000, client_us=client_us)


# -- the target ---------------------------------------------------------------------------------
TARGET = {"clients": 1_000_000, "threads": 100_000, "tenants": 10_000, "messages_per_s": 50_000}
CLOUD_RUN_CONCURRENCY = 1000  # max concurrent requests per instance: each stream is one
STREAM_CUT_S = 3600  # Cloud Run's request timeout cuts a stream after 60 minutes
HEADROOM = 0.8  # run instances at 80 % of the concurrency cap (scale-out before refusals)
# Google Cloud list prices, USD, Tier 1 region, read 2026-12-01 (docs/scale.md cites the pages).
PRICE = {"run_vcpu_s": 0.000018, "run_gib_s": 0.000002,  # Cloud Run, instance-based billing
         "firestore_read": 0.06 / 100_000, "firestore_write": 0.18 / 100_000,
         "pubsub_tib": 40.0}
MESSAGE_BYTES = 300  # a chat event as the gateway receives it (pulls batched: the 1 kB minimum is per request)
MONTH_S = 30 * 24 * 3600


def target_sizing(cal: Calibration, hot_subscribers: int = 10_000, seed: int = 11) -> dict[str, Any]:
    """Instances, memory, CPU, p99 and costs for TARGET, per fleet design."""
    clients, threads, rate = TARGET["clients"], TARGET["threads"], TARGET["messages_per_s"]
    per_instance = int(CLOUD_RUN_CONCURRENCY * HEADROOM)
    fleet = math.ceil(clients / per_instance)
    subs_per_thread = clients / threads
    per_thread_rate = rate / threads
    deliveries_per_s = rate * subs_per_thread
    # One instance, simulated: its clients in distinct threads mostly (threads >> instances' share).
    rng = random.Random(seed)
    local: dict[int, int] = {}
    for _ in range(per_instance):
        thread = rng.randrange(threads)
        local[thread] = local.get(thread, 0) + 1
    local[threads] = max(1, hot_subscribers // fleet)  # a live event's thread, spread over the fleet
    # A dedicated vCPU per instance; posts are the chat function's, clients are elsewhere.
    lat = simulate([local], per_thread_rate, 60.0, cal, cores=1.0, seed=seed)
    feeds_per_instance = len(local)
    cpu_per_instance = (feeds_per_instance * per_thread_rate * cal.feed_ms / 1000
                        + per_instance * per_thread_rate * cal.delivery_us / 1e6)
    memory_mib = cal.base_mib + per_instance * cal.idle_kib / 1024
    vcpu = 1.0  # Cloud Run's floor for a gateway that must own its CPU between requests
    gib = max(0.5, math.ceil(memory_mib / 256) * 0.25)
    run_month = fleet * MONTH_S * (vcpu * PRICE["run_vcpu_s"] + gib * PRICE["run_gib_s"])
    delivered_month = deliveries_per_s * MONTH_S
    # Designs: what each pays on top of the same Cloud Run fleet, per month.
    listeners = feeds_per_instance * 3  # messages, thread document, chunks of a streaming reply
    firestore_listener_reads = deliveries_per_s / subs_per_thread * min(subs_per_thread, fleet) * MONTH_S
    pubsub_bytes = rate * fleet * MESSAGE_BYTES * MONTH_S  # every instance pulls every message
    designs = {
        "firestore listeners per thread per instance": {
            "extra_month_usd": firestore_listener_reads * PRICE["firestore_read"],
            "breaks": f"{listeners:,} listeners per instance (Firestore recommends <= 100 per client)"},
        "pub/sub fan-out to instances": {
            "extra_month_usd": pubsub_bytes / 2**40 * PRICE["pubsub_tib"],
            "breaks": f"each instance pulls all {rate:,} msg/s to keep {per_thread_rate * feeds_per_instance:,.0f}"},
        "broker (per-thread channels)": {
            "extra_month_usd": float("nan"),  # Memorystore's price was not verified here: see docs/scale.md
            "breaks": "the broker's own fan-out; an extra stateful service to run"},
    }
    return {
        "fleet_instances": fleet, "clients_per_instance": per_instance, "memory_mib_per_instance": memory_mib,
        "vcpu_used_per_instance": cpu_per_instance, "deliveries_per_s": deliveries_per_s,
        "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
        "reconnects_per_s": clients / STREAM_CUT_S, "run_month_usd": run_month,
        "usd_per_million_delivered": run_month / (delivered_month / 1e6),
        "usd_per_10k_idle_per_month": run_month / (clients / 10_000), "designs": designs,
        "instance_gib": gib,
    }


def main() -> None:
    out = target_sizing(CALIBRATION)
    for key, value in out.items():
        if key != "designs":
            print(f"  {key:<30} {value:,.4g}" if isinstance(value, float) else f"  {key:<30} {value:,}")
    for name, design in out["designs"].items():
        print(f"  {name:<45} +${design['extra_month_usd']:,.0f}/month; breaks: {design['breaks']}")
    p50, p99 = predict_local(2, 1000, CALIBRATION)
    print(f"  2 processes, 1,000 subscribers (this machine): predicted p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()

"""A discrete-event simulation of the realtime gateway fleet, calibrated on this machine's
measured figures (bench/fleet_fanout.py, bench/realtime_idle.py), and the sizing it gives for
the studio's target (docs/scale.md).

Model. Each gateway instance is one event loop: one server, first come first served. A message
posted at t reaches every instance that holds a subscriber of its thread after the feed's
latency (``floor_ms``: store commit -> listener -> the instance's loop); there it is one job:
``feed_ms`` once, then ``delivery_ms`` per local subscriber, the k-th subscriber's bytes leaving
at start + feed + k * delivery. Jobs queue behind each other on an instance, which is where a
burst's tail comes from. Latency = delivery time - post time. Everything else (the kernel's
post handling, the clients) is outside the instance and outside the model.

    python -m bench.fleet_sim            # the target's sizing, with the calibration in CALIBRATION
"""
from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, replace
from typing import Any

from bench.common import percentile


@dataclass(frozen=True)
class Calibration:
    floor_ms: float  # post -> first byte to a subscriber, one subscriber (the platform's floor)
    feed_ms: float  # per message per instance holding the thread (listener, decode, hop to the loop)
    delivery_ms: float  # per subscriber per message (frame + socket write), wall time on this machine
    cpu_delivery_us: float  # gateway CPU per delivery (for sizing a dedicated vCPU)
    idle_kib: float  # resident memory per idle connection
    base_mib: float = 180.0  # an instance's resident memory with no connection (runtime + library)


# Measured on this machine on 2026-12-01 (docs/scale.md gives the runs); fleet_fanout refits the
# latency terms on every ``make bench`` before it predicts its own 2-process rounds.
CALIBRATION = Calibration(floor_ms=6.0, feed_ms=0.3, delivery_ms=0.019, cpu_delivery_us=19.0, idle_kib=40.0)


def simulate(instances: list[dict[str, int]], rate_per_thread: float, duration_s: float, cal: Calibration,
             seed: int = 7, arrivals: str = "poisson") -> list[float]:
    """``instances``: per instance, {thread: local subscribers}. Messages arrive on each thread at
    ``rate_per_thread`` (Poisson, or ``periodic`` as the benchmark posts). Returns every delivery's
    latency in ms."""
    rng = random.Random(seed)
    threads = sorted({t for inst in instances for t in inst})
    posts: list[tuple[float, int]] = []
    for thread in threads:
        t = rng.random() / rate_per_thread if arrivals == "periodic" else rng.expovariate(rate_per_thread)
        while t < duration_s:
            posts.append((t, thread))
            t += 1 / rate_per_thread if arrivals == "periodic" else rng.expovariate(rate_per_thread)
    latencies: list[float] = []
    for inst in instances:  # instances share nothing but the store's feed: each is its own queue
        jobs = [(t + cal.floor_ms / 1000 * (0.8 + 0.4 * rng.random()), t, inst[th]) for t, th in posts if th in inst]
        heapq.heapify(jobs)
        free_at = 0.0
        while jobs:
            arrive, posted, subscribers = heapq.heappop(jobs)
            start = max(arrive, free_at)
            first = start + cal.feed_ms / 1000
            for k in range(1, subscribers + 1):
                latencies.append((first + k * cal.delivery_ms / 1000 - posted) * 1000)
            free_at = first + subscribers * cal.delivery_ms / 1000
    return latencies


def predict_local(processes: int, subscribers: int, cal: Calibration, interval_s: float = 0.1,
                  messages: int = 200) -> tuple[float, float]:
    """The fan-out bench's round: one thread, ``subscribers`` spread evenly, a post every interval."""
    per = subscribers // processes
    lat = simulate([{0: per} for _ in range(processes)], 1 / interval_s, messages * interval_s, cal,
                   arrivals="periodic")
    return percentile(lat, 50), percentile(lat, 99)


def fit(floor_ms: float, rounds: dict[int, tuple[float, float]], cpu_delivery_us: float,
        base: Calibration = CALIBRATION) -> Calibration:
    """Latency terms from 1-process rounds {subscribers: (p50 ms, median fan-out span ms)}: the span
    over the subscribers is the per-delivery wall time; what p50 has beyond half a span and the
    floor is the per-message feed cost."""
    per = [span / max(subs - 1, 1) for subs, (_p50, span) in rounds.items()]
    delivery = sum(per) / len(per)
    feeds = [max(p50 - floor_ms - delivery * subs / 2, 0.0) for subs, (p50, _span) in rounds.items()]
    return replace(base, floor_ms=floor_ms, delivery_ms=delivery, feed_ms=sum(feeds) / len(feeds),
                   cpu_delivery_us=cpu_delivery_us)


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
    cal_cpu = replace(cal, delivery_ms=cal.cpu_delivery_us / 1000)  # a dedicated vCPU: CPU time is wall time
    lat = simulate([local], per_thread_rate, 60.0, cal_cpu, seed=seed)
    feeds_per_instance = len(local)
    cpu_per_instance = (feeds_per_instance * per_thread_rate * cal.feed_ms / 1000
                        + per_instance * per_thread_rate * cal_cpu.delivery_ms / 1000)
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

"""A discrete-event simulation of the realtime gateway fleet, calibrated on this machine's
measured figures (bench/fleet_fanout.py, bench/realtime_idle.py), and the sizing it gives for
the studio's target (docs/scale.md).

Model. A machine's cores are shared by the runnable processes (processor sharing: n runnable
processes each run at min(1, cores / n)), or, when the processes are pinned (``placement``), each
core by the runnable processes pinned to it; a process runs its work items in order. A gateway
process is one event loop. A message posted at t costs ``post_ms`` of CPU on the process that
takes the POST (locally: the one member the poster's keep-alive connection landed on; deployed:
the chat function, not the gateway). Once committed, every instance holding a subscriber of the
thread has the change ``floor_ms`` later (its own process; another process also waits for the
wake-up, ``wake_ms``), runs ``feed_ms`` once, then writes the event to its subscribers **one after
another in the same loop iteration** (ThreadFeed._fan_out): the k-th subscriber's bytes leave after
k x ``delivery_us``, which is where the tail of a fan-out comes from. Locally the subscribers are
one more process on the same machine that reads ready sockets one at a time (``client_us`` per
delivery, in the order the bytes arrived), so it can fall behind. What other sessions take of the
machine is not fitted: ``capacity`` replays, window by window, the cores left to us as
bench/machine_load.py measured them during the predicted round. A loop's stalls that its CPU does
not explain are drawn (``Stalls``) at the rate and lengths seen on the rounds the costs come from:
its collections for each process, as CPU work; the rest, the core not running it, once per core as a
blackout of every process pinned there. The local poster waits for each answer (decision 0105).

    python -m bench.fleet_sim            # the target's sizing, with the calibration in CALIBRATION
"""
from __future__ import annotations

import bisect
import heapq
import math
import random
import statistics
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.common import percentile

WAKE_MS = 0.33  # a commit in one process -> a listener in another, p50 (bench/fleet_wake.py, decision 0071)


@dataclass(frozen=True)
class Calibration:
    floor_ms: float  # commit -> an instance's loop has the change (listener latency), no CPU of ours
    post_ms: float  # CPU of one POST (kernel, validation, the store transaction)
    feed_ms: float  # CPU per message per instance holding the thread (listener, decode, hop to the loop)
    delivery_us: float  # gateway CPU per subscriber per message (frame + socket write)
    client_us: float = 0.0  # subscriber-side CPU per delivery when the clients share the machine
    idle_kib: float = 47.0  # resident memory per idle connection
    base_mib: float = 92.3  # an instance's resident memory with no connection (runtime + library)
    wake_ms: float = WAKE_MS  # the extra wait of an instance that did not write the message


# Measured on this machine on 2026-12-01 (docs/scale.md gives the runs); fleet_fanout refits it on
# every ``make bench`` before it predicts its own 2-process rounds.
CALIBRATION = Calibration(floor_ms=0.0, post_ms=3.44, feed_ms=0.55, delivery_us=15.7, client_us=15.8)


@dataclass(frozen=True)
class Capacity:
    """Cores available to our processes over time: ``cores`` less what was taken in each window
    (``starts`` ascending, seconds on the simulation's clock; before the first window nothing is
    taken)."""

    cores: float
    starts: Sequence[float] = ()
    taken: Sequence[float] = ()

    def at(self, t: float) -> float:
        i = bisect.bisect_right(self.starts, t) - 1
        return max(self.cores - (self.taken[i] if i >= 0 else 0.0), 0.05)

    def next_change(self, t: float) -> float:
        i = bisect.bisect_right(self.starts, t)
        return self.starts[i] if i < len(self.starts) else math.inf


@dataclass
class Deliveries:
    """Per delivery, post -> the bytes written to the subscriber's socket (``arrival``) and, when the
    clients share the machine, post -> read by the client process (``read``); ms, tagged by message."""

    arrival: list[tuple[int, float]] = field(default_factory=list)
    read: list[tuple[int, float]] = field(default_factory=list)

    def ms(self, read: bool = False, skip: int = 0) -> list[float]:
        return [v for m, v in (self.read if read else self.arrival) if m >= skip]


@dataclass
class _Proc:
    work: deque[tuple[float, Any]]  # (CPU seconds left, what finishing it means)

    def runnable(self) -> bool:
        return bool(self.work)


def run(instances: list[dict[int, int]], posts: Sequence[tuple[float, int]], cal: Calibration, capacity: Capacity, *,
        clients_local: bool = False, posting: int | None = None,
        pauses: Sequence[Sequence[tuple[float, float]]] = (), placement: Sequence[int] | None = None,
        closed_loop: bool = False, blackouts: Sequence[tuple[float, float, int]] = ()) -> Deliveries:
    """``instances``: per gateway instance, {thread: local subscribers}. ``posts``: (time, thread).
    ``posting``: the instance that takes every POST (None: the posts are not ours to run, they reach
    the instances ``post_ms`` + ``floor_ms`` after their time). ``closed_loop``: with ``posting``, one
    poster that waits for each POST's answer before it sends the next (the bench's poster): a post due
    while the previous one is unanswered goes out when the answer comes, and its latency counts from
    then, as the bench stamps it just before sending. ``pauses``: per instance, garbage collections
    (time, seconds of CPU) that stop its loop wherever it is. ``blackouts``: (time, seconds of wall
    clock, core): the core runs none of the gateway instances pinned to it meanwhile (a stall of the
    core: two members on it are held together, not each for twice as long, as CPU work would be).
    ``placement``: the core each process is pinned to (the instances, then the client process), or
    None for processor sharing over all the cores. Returns every delivery's latencies."""
    events: list[tuple[float, int, str, Any]] = []  # (time, tie, kind, payload)
    tie = 0
    for i, stalls in enumerate(pauses):
        for t, seconds in stalls:
            events.append((t, tie, "gc", (i, seconds)))
            tie += 1
    for t, seconds, core in blackouts:
        events.append((t, tie, "blackout", (core, seconds)))
        tie += 1
    for index, (t, thread) in enumerate(sorted(posts)):
        events.append((t, tie, "post", (index, t, thread)))
        tie += 1
    heapq.heapify(events)
    gateways = [_Proc(deque()) for _ in instances]
    client = _Proc(deque())
    procs = gateways + ([client] if clients_local else [])
    out = Deliveries()
    now = 0.0
    core_of = {id(p): placement[i] for i, p in enumerate(procs)} if placement is not None else {}
    held: dict[int, float] = {}  # core -> the end of its blackout
    gateway_core = {id(g): core_of.get(id(g), 0) for g in gateways}

    waiting: deque[tuple[int, float, int]] = deque()  # closed loop: posts due, the previous unanswered
    in_flight = False

    def send(payload: tuple[int, float, int]) -> None:
        nonlocal in_flight
        assert posting is not None
        in_flight = closed_loop
        gateways[posting].work.append((cal.post_ms / 1000, ("committed", (payload[0], now, payload[2]))))

    def reach(at: float, payload: tuple[int, float, int], writer: int | None) -> None:
        nonlocal tie
        for i, inst in enumerate(instances):
            if payload[2] in inst:
                extra = 0.0 if writer == i else cal.wake_ms / 1000 if writer is not None else 0.0
                heapq.heappush(events, (at + cal.floor_ms / 1000 + extra, tie, "feed", (i, payload)))
                tie += 1

    while events or any(p.runnable() for p in procs):
        if not any(p.runnable() for p in procs):
            now = max(now, events[0][0])
        while events and events[0][0] <= now:
            _t, _tie, kind, payload = heapq.heappop(events)
            if kind == "gc":  # the collector runs before anything else the loop had to do
                gateways[payload[0]].work.appendleft((payload[1], None))
            elif kind == "blackout":
                held[payload[0]] = max(held.get(payload[0], 0.0), now + payload[1])
                heapq.heappush(events, (now + payload[1], tie, "resume", None))  # a step ends there
                tie += 1
            elif kind == "resume":
                pass
            elif kind == "post":
                if posting is not None and in_flight:
                    waiting.append(payload)
                elif posting is not None:
                    send(payload)
                else:
                    reach(payload[1] + cal.post_ms / 1000, payload, None)
            else:  # the change reaches one instance holding the thread: its feed, then the batch
                i, (msg, posted, thread) = payload
                gateways[i].work.append((cal.feed_ms / 1000, None))
                gateways[i].work.extend((cal.delivery_us / 1e6, ("delivered", msg, posted))
                                        for _ in range(instances[i][thread]))
        running = [p for p in procs if p.runnable()]
        if not running:
            continue
        if placement is None:  # the scheduler spreads the runnable processes over all the cores
            shared = min(1.0, capacity.at(now) / len(running))
            speeds = [shared] * len(running)
        else:  # pinned: a core is shared by the runnable processes pinned to it
            per_core = capacity.at(now) / capacity.cores
            on_core = [core_of[id(p)] for p in running]
            speeds = [min(1.0, per_core) / on_core.count(c) for c in on_core]
        speeds = [0.0 if id(p) in gateway_core and held.get(gateway_core[id(p)], -1.0) > now else v
                  for p, v in zip(running, speeds, strict=True)]
        # Advance to the first completion, the next arrival or the next change of capacity.
        step = min((p.work[0][0] / v if v > 0 else math.inf) for p, v in zip(running, speeds, strict=True))
        if events:
            step = min(step, max(events[0][0] - now, 0.0))
        step = min(step, max(capacity.next_change(now) - now, 0.0)) if step > 0 else step
        now += step
        for p, speed in zip(running, speeds, strict=True):
            left, what = p.work[0]
            left -= step * speed
            if left > 1e-12:
                p.work[0] = (left, what)
                continue
            p.work.popleft()
            if what is None:
                continue
            if what[0] == "delivered":
                out.arrival.append((what[1], (now - what[2]) * 1000))
                if clients_local:  # the client reads it when it gets to it (it may fall behind)
                    client.work.append((cal.client_us / 1e6, ("read", what[1], what[2])))
            elif what[0] == "read":
                out.read.append((what[1], (now - what[2]) * 1000))
            elif what[0] == "committed":
                reach(now, what[1], gateways.index(p))
                in_flight = False
                if waiting:  # the poster had the next one due: it goes out with the answer
                    send(waiting.popleft())
    return out


def poisson_posts(threads: Sequence[int], rate_per_thread: float, duration_s: float, seed: int = 7) -> list[
        tuple[float, int]]:
    rng = random.Random(seed)
    posts = []
    for thread in threads:
        t = rng.expovariate(rate_per_thread)
        while t < duration_s:
            posts.append((t, thread))
            t += rng.expovariate(rate_per_thread)
    return posts


def simulate(instances: list[dict[int, int]], rate_per_thread: float, duration_s: float, cal: Calibration, *,
             cores: float = 1.0, seed: int = 7) -> list[float]:
    """Poisson posts on every thread, the POSTs not ours (the chat function's), clients elsewhere:
    post -> bytes written, ms, per delivery."""
    threads = sorted({t for inst in instances for t in inst})
    return run(instances, poisson_posts(threads, rate_per_thread, duration_s, seed), cal, Capacity(cores)).ms()


@dataclass(frozen=True)
class Stalls:
    """Stalls of a gateway's loop that its CPU work does not explain (a garbage collection, the GIL
    held by a listener thread, a wake-up that waits for a core): how often per second of a round, and
    how long each was, as seen on rounds the simulation is calibrated on. Drawn at random (Poisson)
    for each process of a predicted round."""

    per_s: float = 0.0
    seconds: tuple[float, ...] = ()

    def draw(self, duration_s: float, rng: random.Random) -> list[tuple[float, float]]:
        if not self.seconds or self.per_s <= 0:
            return []
        out, t = [], rng.expovariate(self.per_s)
        while t < duration_s:
            out.append((t, rng.choice(self.seconds)))
            t += rng.expovariate(self.per_s)
        return out


def predict_local(processes: int, subscribers: int, cal: Calibration, post_times: Sequence[float],
                  capacity: Capacity, warmup: int = 0, stalls: Stalls = Stalls(), placement: Sequence[int] | None = None,
                  seed: int = 7, core_stalls: Stalls = Stalls()) -> Deliveries:
    """The fan-out bench's round on this machine: one thread, ``subscribers`` spread evenly over
    ``processes``, the posts due at ``post_times`` (seconds, the round's schedule) all taken by one
    member (the poster's keep-alive connection; the poster waits for each answer), the clients in
    one more process, ``capacity`` the cores other sessions left, ``placement`` the cores the bench
    pinned the processes to. ``stalls`` (a process's own: its collections) are drawn for each member,
    ``core_stalls`` (the rest: the core did not run the loop) once per core, as wall-clock blackouts
    of every member pinned to it at once, with ``seed``. Deliveries of the first ``warmup`` messages
    are dropped, as the bench drops them."""
    per = subscribers // processes
    rng = random.Random(seed)
    span = (max(post_times) if post_times else 0.0) + 1.0
    pauses = [stalls.draw(span, rng) for _ in range(processes)]
    cores = sorted(set(placement[:processes])) if placement is not None else [0]
    blackouts = [(t, seconds, core) for core in cores for t, seconds in core_stalls.draw(span, rng)]
    out = run([{0: per} for _ in range(processes)], [(t, 0) for t in post_times], cal, capacity,
              clients_local=True, posting=0, pauses=pauses, placement=placement, closed_loop=True,
              blackouts=blackouts)
    return Deliveries([x for x in out.arrival if x[0] >= warmup], [x for x in out.read if x[0] >= warmup])


def predicted_percentiles(processes: int, subscribers: int, cal: Calibration, post_times: Sequence[float],
                          capacity: Capacity, warmup: int, stalls: Stalls, placement: Sequence[int] | None,
                          replications: int = 5, core_stalls: Stalls = Stalls()
                          ) -> dict[tuple[str, int], tuple[float, float, float]]:
    """p50 and p99, at the socket and read: (lowest, median, highest) over ``replications`` draws of
    the stalls. A round has a handful of long stalls and its p99 depends on where they landed, so
    the spread is part of the prediction."""
    drawn = bool(stalls.seconds or core_stalls.seconds)
    runs = [predict_local(processes, subscribers, cal, post_times, capacity, warmup, stalls, placement, seed=7 + i,
                          core_stalls=core_stalls)
            for i in range(replications if drawn else 1)]
    out = {}
    for where in ("socket", "read"):
        for p in (50, 99):
            values = [percentile(r.ms(read=where == "read"), p) for r in runs]
            out[(where, p)] = (min(values), statistics.median(values), max(values))
    return out


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
    out2 = predict_local(2, 1000, CALIBRATION, [i * 0.1 for i in range(23)], Capacity(2.0), warmup=3)
    print(f"  2 processes, 1,000 subscribers (this machine, nothing else running): predicted p50 "
          f"{percentile(out2.ms(), 50):.1f} ms, p99 {percentile(out2.ms(), 99):.1f} ms at the socket")


if __name__ == "__main__":
    main()

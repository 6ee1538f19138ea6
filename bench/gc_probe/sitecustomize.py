"""A probe the fan-out bench puts on its gateways' PYTHONPATH (bench only, never deployed): it logs
each garbage collection that stalls the process for more than a millisecond to
``$STUDIO_BENCH_GC_LOG-<pid>`` as "<wall clock start> <seconds> <generation>". A full collection of a
gateway holding thousands of connections takes tens of milliseconds, during which the event loop
writes nothing: one of the sources of a fan-out's tail that the simulation replays
(bench/fleet_sim.py)."""
import gc
import os
import time

_LOG = os.environ.get("STUDIO_BENCH_GC_LOG")
_started = [0.0, 0.0]


def _on_gc(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _started[0], _started[1] = time.time(), time.perf_counter()
        return
    took = time.perf_counter() - _started[1]
    if took > 0.001 and _LOG:
        with open(f"{_LOG}-{os.getpid()}", "a") as log:
            log.write(f"{_started[0]:.6f} {took:.6f} {info['generation']}\n")


if _LOG:
    gc.callbacks.append(_on_gc)

"""A probe the realtime benches put on their gateways' PYTHONPATH (bench only, never deployed).

It logs each garbage collection that stalls the process for more than a millisecond to
``$STUDIO_BENCH_GC_LOG-<pid>`` as "<wall clock start> <seconds> <generation>". A full collection of a
gateway holding thousands of connections took hundreds of milliseconds before decision 0104, during
which the event loop writes nothing: one of the sources of a fan-out's tail that the simulation
replays (bench/fleet_sim.py).

On SIGUSR2 it runs the command in ``$STUDIO_BENCH_GC_LOG-<pid>.cmd`` and writes its answer, JSON, to
``$STUDIO_BENCH_GC_LOG-<pid>.out`` (bench/gateway_heap.py): ``census``, the objects the collector
tracks by type (not the frozen ones: the census is taken with the default policy); ``collect``, the
time of one full collection of what is not frozen.
"""
import gc
import json
import os
import signal
import time
from collections import Counter

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


def _type_name(kind: type) -> str:
    module = kind.__dict__.get("__module__")
    return f"{module}.{kind.__qualname__}" if isinstance(module, str) else kind.__qualname__


def _command(signum: int, frame: object) -> None:
    base = f"{_LOG}-{os.getpid()}"
    with open(base + ".cmd") as f:
        command = f.read().strip()
    answer: dict[str, object] = {"command": command}
    if command == "census":
        answer["types"] = dict(Counter(_type_name(type(o)) for o in gc.get_objects()))
    elif command == "collect":
        started = time.perf_counter()
        gc.collect()
        answer["seconds"] = time.perf_counter() - started
    with open(base + ".tmp", "w") as f:
        json.dump(answer, f)
    os.replace(base + ".tmp", base + ".out")


if _LOG:
    gc.callbacks.append(_on_gc)
    signal.signal(signal.SIGUSR2, _command)

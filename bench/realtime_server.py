"""The realtime benchmarks' gateway process: the local runtime (``infra.localrun.server.build``:
every HTTP function plus the realtime gateway) under uvicorn, as ``python -m infra.localrun``
serves it, with the two knobs a many-connection benchmark needs and that entry point lacks:
the open-file limit raised to the hard limit and a longer listen backlog (and, for the
fan-out benchmark, CPU pinning).

    STUDIO_DATA_DIR=... PORT=... python -m bench.realtime_server --manifest M [--backlog 4096] [--cpus 0]

Configuration comes from the environment (``Settings.from_env``), as for the runtime.
The event delivery loop runs (outbox relay + event functions of the manifest), as in
``make serve``. ``BENCH_GATEWAY_PROFILE=<file>`` (diagnosis) writes a cProfile of the event
loop's thread there on exit (SIGTERM).
"""
from __future__ import annotations

import argparse
import os
import resource
from pathlib import Path

import bench  # noqa: F401 - puts shared/ on sys.path


def raise_nofile() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--backlog", type=int, default=4096)
    parser.add_argument("--cpus", help="pin the process to these CPUs (comma-separated), before any thread starts")
    args = parser.parse_args()
    if args.cpus:
        os.sched_setaffinity(0, {int(c) for c in args.cpus.split(",")})
    raise_nofile()

    import uvicorn

    from infra.localrun.server import build

    platform = build(manifest_path=Path(args.manifest))
    platform.delivery.start()
    config = uvicorn.Config(platform.app, host="127.0.0.1", port=int(os.environ["PORT"]), backlog=args.backlog,
                            log_level="warning", access_log=False, timeout_graceful_shutdown=1,
                            ws_per_message_deflate=False)  # as infra/localrun and infra/realtime serve it
    server = uvicorn.Server(config)
    profile_to = os.environ.get("BENCH_GATEWAY_PROFILE")  # diagnosis: cProfile of the event loop's thread
    try:
        if profile_to:
            import cProfile
            import signal

            def _exit(signum: int, frame: object) -> None:  # uvicorn re-raises SIGTERM after shutting down
                raise SystemExit(0)

            signal.signal(signal.SIGTERM, _exit)
            profiler = cProfile.Profile()
            try:
                profiler.runcall(server.run)
            finally:
                profiler.dump_stats(profile_to)
        else:
            server.run()
    finally:
        platform.delivery.stop()


if __name__ == "__main__":
    main()

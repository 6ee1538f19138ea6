"""``python -m infra.localrun.event_worker FUNCTION...``: one more instance of event functions on this
machine, on the same data folder as ``make serve``: it pulls their subscriptions from the SQLite bus and
runs them (a function with ``concurrency: N`` N at a time), as a second Cloud Functions instance would.
It relays no outbox (one relay per data folder: the runtime's). The render chunk workers scale across
processes this way (decision 0087); a test kills one mid-chunk."""
from __future__ import annotations

import signal
import sys
import threading

from infra.localrun import loader


def main(argv: list[str]) -> None:
    loader.ensure_library_on_path()
    from infra.localrun.event_delivery import EventDelivery
    from infra.localrun.manifest import load
    from studio.bootstrap import bootstrap
    from studio.config import Settings

    specs = [s for s in load().events() if s.name in argv]
    if not specs or len(specs) != len(set(argv)):
        raise SystemExit(f"usage: python -m infra.localrun.event_worker FUNCTION... (event functions; got {argv})")
    delivery = EventDelivery(bootstrap(Settings.from_env()), specs, relay=False)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    delivery.start()
    print(f"event worker: {', '.join(s.name for s in specs)}", flush=True)
    stopped.wait()
    delivery.stop()


if __name__ == "__main__":
    main(sys.argv[1:])

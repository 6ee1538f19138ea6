"""While a render step runs: stop its ffmpeg once the job is no longer running (cancelled, expired),
and renew the holder's lease (a part's, or the finisher's) so the job does not look abandoned."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from studio.kernel import logs
from studio.ports.store import DocumentStore, Transaction
from studio.video import parts, render

_log = logs.get("studio.video.watch")
LOOK_S = 0.25  # how often it looks at the job: a cancel stops ffmpeg within this


class Watch:
    def __init__(self, store: DocumentStore, runner: render.Runner, job_path: str,
                 renew: Callable[[Transaction], None]) -> None:
        self._store = store
        self._runner = runner
        self._job_path = job_path
        self._renew = renew
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="render-watch", daemon=True)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        renew_every = max(LOOK_S, parts.lease_s() / 4)
        renewed = time.monotonic()
        while not self._done.wait(LOOK_S):
            try:
                job = self._store.get(self._job_path)
                if job is None or job.data["status"] != "running":
                    self._runner.stop()
                    return
                if time.monotonic() - renewed >= renew_every:
                    self._store.run_transaction(self._renew)
                    renewed = time.monotonic()
            except Exception:  # noqa: BLE001 - a missed look is retried on the next tick
                _log.exception("render watch failed")

"""Running a render plan on this machine: chunks in parallel (each an ffmpeg process; a pool of
``workers`` of them), a failed chunk retried, then concat without re-encoding, the audio mix and the
mux. Cancel kills the ffmpeg processes in flight (decision 0068)."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from studio.media.binaries import binary

CHUNK_ATTEMPTS = 3
TIMEOUT_S = 900


class RenderFailed(Exception):
    """A step failed after its retries: the job ends ``failed`` with this reason."""


class Cancelled(Exception):
    """The job was cancelled while it ran."""


def resolve(args: list[str], work: str, files: dict[str, str]) -> list[str]:
    """Placeholders -> local paths: ``{work}``, ``{src:<id>}`` and ``{font:<id>}`` (``files`` maps the latter two)."""
    out = []
    for a in args:
        a = a.replace("{work}", work)
        for token, path in files.items():
            a = a.replace(token, path)
        out.append(a)
    return out


def default_workers() -> int:
    return max(1, int(os.environ.get("STUDIO_RENDER_WORKERS", "0")) or (os.cpu_count() or 1))


class Runner:
    """One job's execution; ``stop()`` (from any thread) kills what is running."""

    def __init__(self, work: str, files: dict[str, str], cancelled: Callable[[], bool],
                 executed: list[list[str]] | None = None) -> None:
        self._work = work
        self.executed = executed if executed is not None else []  # the plan steps run, as planned (unresolved)
        self._files = files
        self._cancelled = cancelled
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for p in list(self._procs):
                p.kill()

    def ffmpeg(self, args: list[str]) -> None:
        self.executed.append(list(args))
        argv = [binary("ffmpeg"), *resolve(args, self._work, self._files)]
        with self._lock:
            if self._stopped:
                raise Cancelled()
            proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603 - fixed argv
            self._procs.add(proc)
        try:
            _, err = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise RenderFailed(f"ffmpeg took longer than {TIMEOUT_S} s") from None
        finally:
            with self._lock:
                self._procs.discard(proc)
        if self._stopped:
            raise Cancelled()
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-2:]
            raise RenderFailed(" / ".join(tail) or f"ffmpeg exit {proc.returncode}")

    def write_files(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            with open(name.replace("{work}", self._work), "w", encoding="utf-8") as fh:
                fh.write(text)

    def chunk(self, chunk: dict[str, Any], attempt_hook: Callable[[int, int], None]) -> int:
        """Render one chunk, retrying a failure; returns the attempts it took."""
        self.write_files(chunk["files"])
        for attempt in range(1, CHUNK_ATTEMPTS + 1):
            attempt_hook(chunk["index"], attempt)
            try:
                self.ffmpeg(chunk["args"])
                return attempt
            except RenderFailed as exc:
                if attempt == CHUNK_ATTEMPTS:
                    raise RenderFailed(f"chunk {chunk['index']} failed {attempt} times") from exc  # ffmpeg's words: in the log
        raise AssertionError("unreachable")

    def run(self, plan: dict[str, Any], workers: int,
            on_chunk: Callable[[int, str, int], None]) -> str:
        """Every step of ``plan``; ``on_chunk(index, state, attempt)`` reports each chunk. Returns the output path."""
        with ThreadPoolExecutor(max_workers=max(1, workers) + 1) as pool:
            audio = pool.submit(self.ffmpeg, plan["audio"]["args"])  # the mix runs beside the chunks
            chunk_pool = ThreadPoolExecutor(max_workers=max(1, workers))
            try:
                pending: dict[Future[int], int] = {
                    chunk_pool.submit(self.chunk, c, lambda i, a: on_chunk(i, "running", a)): c["index"]
                    for c in plan["chunks"]}
                while pending:
                    done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    if self._cancelled():
                        self.stop()
                    for fut in done:
                        index = pending.pop(fut)
                        attempts = fut.result()  # raises RenderFailed / Cancelled: stop the rest
                        on_chunk(index, "done", attempts)
            except BaseException:
                self.stop()
                raise
            finally:
                chunk_pool.shutdown(wait=True, cancel_futures=True)
            audio.result()
        with open(os.path.join(self._work, "chunks.txt"), "w", encoding="utf-8") as fh:
            fh.writelines(f"file '{name}'\n" for name in plan["concat"]["list"])
        self.ffmpeg(plan["concat"]["args"])
        self.ffmpeg(plan["mux"]["args"])
        return str(plan["mux"]["output"]).replace("{work}", self._work)


def timed(fn: Callable[[], str]) -> tuple[str, float]:
    started = time.perf_counter()
    return fn(), time.perf_counter() - started

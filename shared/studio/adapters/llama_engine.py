"""One llama.cpp engine per process and model file (``xllamacpp``), loaded by the first generation.

``xllamacpp.Server`` runs llama.cpp's server in process: we call its in-process API
(``handle_chat_completions`` with a callback per streamed chunk), but it always opens llama.cpp's HTTP
listener too. That listener is kept closed to everyone else: it is a Unix socket (no TCP port at all) in a
private directory (mode 0700, this user only), it requires a random per-process API key, and it is shut
down at exit. The engine is offline: it never downloads a model.
"""
from __future__ import annotations

import atexit
import os
import queue
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

CHUNK_TIMEOUT_S = 120.0  # the longest wait for the next chunk: a long prompt queued behind another reply
CLOSE_TIMEOUT_S = 60.0  # how long closing waits for generations under way to stop


@dataclass(frozen=True)
class EngineSpec:
    model_path: Path
    context_tokens: int = 2048
    threads: int = 1


class EngineStalled(Exception):
    """No chunk came for ``CHUNK_TIMEOUT_S``."""


class LlamaEngine:
    """A loaded model. ``stream_chat`` may be called from many threads: llama.cpp queues the requests."""

    def __init__(self, spec: EngineSpec) -> None:
        started = time.perf_counter()
        import xllamacpp  # a 100 MB native library: imported by the first generation, never at cold start

        self.spec = spec
        self._dir = Path(tempfile.mkdtemp(prefix="studio-llm-"))  # 0700: nobody else can reach the socket
        params = xllamacpp.CommonParams()
        params.model.path = str(spec.model_path)
        params.n_ctx = spec.context_tokens
        params.n_parallel = 1
        params.cpuparams.n_threads = spec.threads
        params.cpuparams_batch.n_threads = spec.threads
        params.cache_ram_mib = 64  # llama.cpp keeps up to 8 GiB of old prompts by default
        params.hostnames = [str(self._dir / "llama.sock")]  # a path ending in .sock: a Unix socket, no TCP
        params.api_keys = [secrets.token_urlsafe(32)]  # known to no one: the listener answers only /health
        params.offline = True
        params.ui = False
        params.endpoint_slots = False
        params.verbosity = 0  # llama.cpp's own logs: errors only
        try:
            self._server: Any = xllamacpp.Server(params)
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self.listening_address: str = self._server.listening_address
        self.load_s = time.perf_counter() - started
        self._running: dict[threading.Thread, threading.Event] = {}  # generations under way, their stop flags
        self._running_lock = threading.Lock()

    def stream_chat(self, request: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """The chunks of an OpenAI-style streamed chat completion as llama.cpp produces them (an
        ``{"error": ...}`` chunk when it refuses the request). Closing the iterator early stops the
        generation at the next token."""
        server = self._server
        if server is None:
            raise RuntimeError("the local model engine is closed")
        chunks: queue.SimpleQueue[object] = queue.SimpleQueue()
        stop = threading.Event()
        end = object()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            chunks.put(chunk)  # never raises: llama.cpp would swallow an exception raised here
            return stop.is_set()  # True tells llama.cpp to stop generating

        def generate() -> None:
            try:
                server.handle_chat_completions(dict(request, stream=True), on_chunk)
            except Exception as exc:  # noqa: BLE001 - a refused request (ValueError): handed to the reader
                chunks.put(exc)
            finally:
                chunks.put(end)
                with self._running_lock:
                    self._running.pop(threading.current_thread(), None)

        # The call blocks until the reply ends and releases the GIL meanwhile: a thread per generation
        # turns its callbacks into an iterator the caller pulls at its own pace.
        worker = threading.Thread(target=generate, name="llama-generate", daemon=True)
        with self._running_lock:
            self._running[worker] = stop
        worker.start()
        try:
            while True:
                try:
                    item = chunks.get(timeout=CHUNK_TIMEOUT_S)
                except queue.Empty:
                    raise EngineStalled(f"no output from the local model for {CHUNK_TIMEOUT_S:.0f} s") from None
                if item is end:
                    return
                if isinstance(item, Exception):
                    raise item
                yield cast(dict[str, Any], item)
        finally:
            stop.set()

    def close(self) -> None:
        """Stop the generations under way, then the server (its loop thread and listener), and remove the
        socket's directory. A generation's thread must end first: one still inside llama.cpp when the
        interpreter finalizes is unwound by force through C++ code, which aborts the process."""
        with self._running_lock:
            running = list(self._running.items())
        for _, stop in running:
            stop.set()  # obeyed at the next token
        deadline = time.monotonic() + CLOSE_TIMEOUT_S
        for worker, _ in running:
            worker.join(max(0.0, deadline - time.monotonic()))
        server, self._server = self._server, None
        del server  # the last reference: xllamacpp's destructor terminates the loop and joins it
        shutil.rmtree(self._dir, ignore_errors=True)


_engines: dict[EngineSpec, LlamaEngine] = {}
_lock = threading.Lock()


def engine(spec: EngineSpec) -> LlamaEngine:
    """The process's engine for ``spec``, loaded once by whichever thread asks first."""
    found = _engines.get(spec)
    if found is not None:
        return found  # the hot path: no lock
    with _lock:
        found = _engines.get(spec)
        if found is None:
            if not _engines:
                atexit.register(close_all)
            found = _engines[spec] = LlamaEngine(spec)
    return found


def loaded() -> list[LlamaEngine]:
    return list(_engines.values())


def close_all() -> None:
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for each in engines:
        each.close()


def default_threads() -> int:
    """Half the cores, at least one: the runtime's own threads keep the rest. More is slower on a busy
    machine: llama.cpp's threads spin-wait on each other at every step, and lose to other processes (on
    2 busy cores, 2 threads read prompts 5x and generated up to 10x slower than 1)."""
    return max(1, (os.cpu_count() or 2) // 2)

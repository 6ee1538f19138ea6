"""Time to first token added by the platform over the provider's own: goal <= 20 ms; and
store writes per streamed reply of 500 tokens vs one write per token.

Setup, in one process: the local runtime served by uvicorn on a loopback port
(``tests.support.platform.start_platform``: real SQLite store, real realtime gateway), an
AgentPipeline built as functions/agent_pipeline builds it (the platform's store, message
service and event logger, no governance gates) but with a timer provider (``TimerProvider``
below: its first token FIRST_TOKEN_S after ``stream()`` is called, then one every
TOKEN_EVERY_S, on a fixed schedule), and two subscribers on the thread, one SSE
(httpx stream) and one WebSocket (websockets sync client), each reading on its own thread.

One run: a fresh thread, both subscribers connected, a user message posted over HTTP and seen
by both; then the clock starts and ``pipeline.handle(...)`` answers it (called directly: the
bus hop that triggers it in production is not in the figure). Stamped with ``perf_counter``:
  handle()  -> stream() called          the pipeline's own work before asking the provider
  stream()  -> first token yielded      the provider's own TTFT (its timer)
  yielded   -> first message.delta      store write, change listener, feed, socket, client
             received by the subscriber
Platform overhead = (first delta received - handle() start) - provider's own TTFT: the part
before the provider is asked plus the part after it answers. (The strictly-after part is
printed too.) Median over RUNS short replies (SHORT_TOKENS tokens; TTFT does not depend on
the length), verdict on the slower transport's median.

Writes: for LONG_RUNS replies of LONG_TOKENS tokens (FIRST_TOKEN_S, then TOKEN_EVERY_S each:
~5 s of streaming), the store's change feed (``store.changes("", before)``) is read after
the reply completes: every document write the reply caused, those under the thread, and the
chunk documents among them; PipelineStats.writes beside it. Baseline: one write per token.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect as ws_connect

from bench.common import Result, fmt_num, heading, median, percentile, result_rows, table
from bench.realtime_support import Session, session, sse_blocks

GOAL_MS = 20.0
FIRST_TOKEN_S = 0.05
TOKEN_EVERY_S = 0.01
RUNS = 20
SHORT_TOKENS = 20
LONG_RUNS = 2
LONG_TOKENS = 500
WAIT_S = 30.0


class TimerProvider:
    """An LlmProvider (studio.ports.llm) that emits on a timer: the first token ``first_s`` after
    ``stream()`` is called, then one every ``every_s`` (a fixed schedule: a slow consumer does
    not slow the provider down). Stamps when it was asked and when it yielded the first token."""

    name = "bench-timer"
    model = "timer-1"

    def __init__(self, tokens: int, first_s: float = FIRST_TOKEN_S, every_s: float = TOKEN_EVERY_S) -> None:
        self.tokens, self.first_s, self.every_s = tokens, first_s, every_s
        self.called_at: float | None = None
        self.first_at: float | None = None

    def stream(self, turns: Sequence[Any], *, temperature: float = 0.7, tools: Sequence[Any] = (),
               api_key: str | None = None, model: str | None = None) -> Iterator[str]:
        self.called_at = time.perf_counter()
        due = self.called_at + self.first_s
        for i in range(self.tokens):
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if i == 0:
                self.first_at = time.perf_counter()
            yield "tok" if i == 0 else f" tok{i}"
            due += self.every_s


class _Listener:
    """Reads one subscriber's events on a thread: (type, seq, perf_counter at receipt)."""

    def __init__(self, kind: str, base_url: str, thread_id: str, headers: dict[str, str]) -> None:
        self.kind = kind
        self.log: list[tuple[str, int, float]] = []
        self.ended_by = ""
        self._cond = threading.Condition()
        self._client: httpx.Client | None = None
        if kind == "sse":
            self._client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(30, read=None))
            self._cm = self._client.stream("GET", f"/sse/chat/{thread_id}", headers=headers)
            self._resp = self._cm.__enter__()
            if self._resp.status_code != 200:
                raise RuntimeError(f"SSE answered {self._resp.status_code}")
            target: Callable[[], None] = self._read_sse
        else:
            self._ws_cm = ws_connect(base_url.replace("http://", "ws://") + f"/ws/chat/{thread_id}",
                                     additional_headers=headers, open_timeout=10)
            self._ws = self._ws_cm.__enter__()
            hello = json.loads(self._ws.recv(timeout=10))
            if hello.get("type") != "hello":
                raise RuntimeError(f"WS first frame {hello!r}")
            target = self._read_ws
        self._thread = threading.Thread(target=self._guard(target), name=f"bench-{kind}", daemon=True)
        self._thread.start()

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - the benchmark closing it, or reported by wait_for
                self.ended_by = repr(exc)
            finally:
                with self._cond:
                    self._cond.notify_all()
        return run

    def _record(self, kind: str, seq: int, now: float) -> None:
        with self._cond:
            self.log.append((kind, seq, now))
            self._cond.notify_all()

    def _read_sse(self) -> None:
        buffer = ""
        for text in self._resp.iter_text():
            now = time.perf_counter()
            buffer += text
            if "\n\n" in buffer:
                events, buffer = sse_blocks(buffer)
                for kind, data in events:
                    self._record(kind, int(data.get("seq") or 0), now)

    def _read_ws(self) -> None:
        while True:
            raw = self._ws.recv()
            now = time.perf_counter()
            frame = json.loads(raw)
            self._record(str(frame.get("type")), int(frame.get("seq") or 0), now)

    def first(self, kind: str, seq: int) -> float | None:
        return next((t for k, s, t in self.log if k == kind and s == seq), None)

    def wait_for(self, kind: str, seq: int, timeout: float = WAIT_S) -> float:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := self.first(kind, seq)) is None:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    raise RuntimeError(f"{self.kind}: no {kind} for seq {seq}; got {self.log[-5:]} {self.ended_by}")
                self._cond.wait(left)
        return found

    def close(self) -> None:
        if self.kind == "sse":
            sock = self._resp.extensions["network_stream"].get_extra_info("socket")
            if sock is not None:  # wakes the reading thread (closing the response from here would not)
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._thread.join(timeout=5)
            self._resp.close()
            self._cm.__exit__(None, None, None)
            assert self._client is not None
            self._client.close()
        else:
            self._ws_cm.__exit__(None, None, None)
        self._thread.join(timeout=5)


@dataclass
class Run:
    tokens: int
    pre_ms: float
    provider_ms: float
    delta_ms: dict[str, float]  # transport -> first delta received, from handle() start
    after_ms: dict[str, float]  # transport -> first delta received, from the provider's first yield
    writes_all: int = 0
    writes_thread: int = 0
    chunk_writes: int = 0
    stats_writes: int = 0
    handle_ms: float = 0.0
    paths: list[str] = field(default_factory=list)

    def overhead_ms(self, kind: str) -> float:
        return self.delta_ms[kind] - self.provider_ms


def _one_run(platform: Any, pipeline_for: Callable[[TimerProvider], Any], client: httpx.Client, sess: Session,
             tokens: int) -> Run:
    thread_id = sess.new_thread(client, "ttft")
    listeners = [_Listener(kind, platform.base_url, thread_id, sess.headers) for kind in ("sse", "ws")]
    try:
        r = client.post(f"/chat/threads/{thread_id}/messages", json={"text": "write me a long story"},
                        headers=sess.headers)
        if r.status_code != 201:
            raise RuntimeError(f"POST message answered {r.status_code}: {r.text[:300]}")
        user_seq = int(r.json()["seq"])
        for lst in listeners:
            lst.wait_for("message.created", user_seq)
        store = platform.deps.store
        provider = TimerProvider(tokens)
        pipeline = pipeline_for(provider)
        before = store.latest_seq()
        started = time.perf_counter()
        stats = pipeline.handle(sess.tenant_id, "dev", thread_id, user_seq)
        handle_ms = (time.perf_counter() - started) * 1000
        if stats is None or provider.called_at is None or provider.first_at is None:
            raise RuntimeError("the pipeline did not answer")
        reply_seq = user_seq + 1
        received = {lst.kind: lst.wait_for("message.delta", reply_seq) for lst in listeners}
        for lst in listeners:
            lst.wait_for("message.completed", reply_seq)
        changes = store.changes("", before, 100_000)
        thread_path = f"tenants/{sess.tenant_id}/envs/dev/threads/{thread_id}/"
        under = [c.path for c in changes if c.path.startswith(thread_path)]
        ms = 1000.0
        return Run(tokens, (provider.called_at - started) * ms, (provider.first_at - provider.called_at) * ms,
                   {k: (t - started) * ms for k, t in received.items()},
                   {k: (t - provider.first_at) * ms for k, t in received.items()},
                   writes_all=len(changes), writes_thread=len(under),
                   chunk_writes=sum("/chunks/" in p for p in under), stats_writes=stats.writes, handle_ms=handle_ms,
                   paths=[c.path for c in changes])
    finally:
        for lst in listeners:
            lst.close()


def _quiet_logs() -> Callable[[], None]:
    """The kernel's JSON request log lines go to /dev/null (as kernel_latency does); undo on return."""
    from studio.kernel import logs

    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed by the undo function
    logs.configure()
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)

    def undo() -> None:
        root.handlers, root.level = saved_handlers, saved_level
        devnull.close()

    return undo


def _describe(path: str, thread_prefix: str) -> str:
    if not path.startswith(thread_prefix):
        return path.split("/")[4] if path.count("/") >= 4 else path
    rest = path[len(thread_prefix):].split("/")
    if "chunks" in rest:
        return "messages/*/chunks/*"
    return "/".join("*" if part.isdigit() else part for part in rest)


def run(verbose: bool = False, runs: int = RUNS, long_runs: int = LONG_RUNS) -> list[Result]:
    from studio.agents.pipeline import AgentPipeline
    from studio.chat.services import chat_services
    from studio.events.routes import events_services
    from tests.support.platform import start_platform

    heading(f"realtime TTFT: first token through the platform vs the provider's own "
            f"({FIRST_TOKEN_S * 1000:.0f} ms, then {TOKEN_EVERY_S * 1000:.0f} ms/token); writes per reply")
    undo_logs = _quiet_logs()
    with tempfile.TemporaryDirectory(prefix="bench-ttft-") as tmp:
        platform = start_platform(Path(tmp), rate_limit_per_minute=100_000_000, streams_per_user=100_000)
        try:
            deps = platform.deps

            def pipeline_for(provider: TimerProvider) -> AgentPipeline:
                return AgentPipeline(deps.store, chat_services(deps).messages, provider, events_services(deps).logger,
                                     gates=[])

            with httpx.Client(base_url=platform.base_url, timeout=30) as client:
                sess = session(client, "bench-ttft")
                _one_run(platform, pipeline_for, client, sess, SHORT_TOKENS)  # warm-up, not counted
                short = [_one_run(platform, pipeline_for, client, sess, SHORT_TOKENS) for _ in range(runs)]
                long = [_one_run(platform, pipeline_for, client, sess, LONG_TOKENS) for _ in range(long_runs)]
        finally:
            platform.stop()
            undo_logs()

    kinds = ("sse", "ws")
    rows = []
    for label, values in [("handle() -> provider asked (pipeline's own work)", [r.pre_ms for r in short]),
                          ("provider asked -> first token (provider's own TTFT)", [r.provider_ms for r in short]),
                          *[(f"first token -> first delta received, {k.upper()}", [r.after_ms[k] for r in short])
                            for k in kinds],
                          *[(f"handle() -> first delta received, {k.upper()}", [r.delta_ms[k] for r in short])
                            for k in kinds],
                          *[(f"platform overhead, {k.upper()}", [r.overhead_ms(k) for r in short]) for k in kinds]]:
        rows.append([label, fmt_num(median(values), "ms"), fmt_num(percentile(values, 90), "ms"),
                     fmt_num(max(values), "ms")])
    print(f"  {runs} replies of {SHORT_TOKENS} tokens (after 1 warm-up), each on a fresh thread with one SSE and one "
          "WebSocket subscriber", flush=True)
    print(table(["span", "median", "p90", "max"], rows), flush=True)
    overhead = {k: median([r.overhead_ms(k) for r in short]) for k in kinds}
    provider_ms = median([r.provider_ms for r in short])
    worst = max(kinds, key=lambda k: overhead[k])

    results = [
        Result("realtime_ttft", f"TTFT added by the platform (median, slower transport: {worst.upper()})",
               overhead[worst], "ms", GOAL_MS, "goal", 1.0,
               note=f"provider's own TTFT {provider_ms:.1f} ms",
               extra={"sse_ms": overhead["sse"], "ws_ms": overhead["ws"], "provider_ms": provider_ms,
                      "pre_ms": median([r.pre_ms for r in short]),
                      "after_sse_ms": median([r.after_ms["sse"] for r in short]),
                      "after_ws_ms": median([r.after_ms["ws"] for r in short]), "runs": runs}),
        Result("realtime_ttft", "TTFT seen by the subscriber (median, SSE)", median([r.delta_ms["sse"] for r in short]),
               "ms", provider_ms, "provider's own", None),
        Result("realtime_ttft", "TTFT seen by the subscriber (median, WS)", median([r.delta_ms["ws"] for r in short]),
               "ms", provider_ms, "provider's own", None),
    ]
    if long:
        r0 = long[0]
        prefix = next((p.split("/messages/")[0] + "/" for p in r0.paths if "/messages/" in p), "")
        kinds_of_write: dict[str, int] = {}
        for p in r0.paths:
            key = _describe(p, prefix)
            kinds_of_write[key] = kinds_of_write.get(key, 0) + 1
        writes = statistics.mean(r.writes_all for r in long)
        under = statistics.mean(r.writes_thread for r in long)
        chunk_writes = statistics.mean(r.chunk_writes for r in long)
        stream_s = statistics.mean(r.handle_ms for r in long) / 1000
        print(f"  {len(long)} replies of {LONG_TOKENS} tokens (~{stream_s:.1f} s each): store writes per reply "
              f"{writes:.0f} in all, {under:.0f} under the thread, {chunk_writes:.0f} of them chunk documents; "
              f"PipelineStats.writes {statistics.mean(r.stats_writes for r in long):.0f}; TTFT added "
              f"{median([r.overhead_ms('sse') for r in long]):.1f} ms (SSE), "
              f"{median([r.overhead_ms('ws') for r in long]):.1f} ms (WS)", flush=True)
        print("  writes of one reply: " + ", ".join(f"{k} x{v}" for k, v in sorted(kinds_of_write.items())),
              flush=True)
        results += [
            Result("realtime_ttft", f"store writes per {LONG_TOKENS}-token reply", writes, "writes",
                   float(LONG_TOKENS), "1 per token", None,
                   note=f"{under:.0f} under the thread, {chunk_writes:.0f} chunks",
                   extra={"under_thread": under, "chunk_writes": chunk_writes, "by_path": kinds_of_write,
                          "stats_writes": statistics.mean(r.stats_writes for r in long), "stream_s": stream_s}),
            Result("realtime_ttft", f"chunk writes per {LONG_TOKENS}-token reply", chunk_writes, "writes",
                   float(LONG_TOKENS), "1 per token", None, note="at most one per 250 ms by design"),
        ]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--long-runs", type=int, default=LONG_RUNS)
    args = parser.parse_args()
    print(result_rows(run(runs=args.runs, long_runs=args.long_runs)))


if __name__ == "__main__":
    main()

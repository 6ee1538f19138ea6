"""The realtime broker's wake-up (decisions 0075, 0106): a chat message committed in one process, seen by
a gateway feed in another, through a per-thread Redis channel, beside the store-listener feed of the
same thread with cross-process wake-ups (decision 0071) as baseline. Both feeds follow the same thread
in the same process, so each message is timed on both paths. Run twice: hints that carry the event
(0106: delivered from the hint) and bare hints (0075: each one makes the feed read the store from its
cursor); the store reads the broker feed made per delivered message are counted on each run.
Needs redis-server or valkey-server (infra/install-broker.sh)."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import Result, free_port, heading
from bench.cross_process import Arrivals, p50_p99, run_writer

MESSAGES = 200
GAP_S = 0.013

_WRITER = """
import sys, time
from studio.adapters.redis_broker import RedisBroker
from studio.adapters.sqlite_store import SqliteStore
from studio.chat.hints import ThreadHints
from studio.chat.messages import MessageService
store = SqliteStore(sys.argv[1], wake=True)
messages = MessageService(store, ThreadHints(RedisBroker(sys.argv[2]), payloads=sys.argv[6] == "payloads"))
time.sleep(1.5)  # the listener's wake peer list is rescanned every second
for i in range(int(sys.argv[4])):
    messages.post_user("t_bench", "dev", sys.argv[3], "u_bench", repr(time.time()), None, "muse")
    time.sleep(float(sys.argv[5]))
"""


class _Clock(Arrivals):
    """Stands where a subscriber would: records when each message reached the feed's fan-out."""

    def offer(self, event: Any) -> None:
        if event.type == "message.created":
            self.arrived(float(event.data["text"]))


def _redis(port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("valkey-server") or shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no redis-server: run `bash infra/install-broker.sh`")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    return proc


def _measure(folder: Path, payloads: bool) -> tuple[list[float], list[float], float]:
    """(broker feed ms, listener feed ms, the broker feed's store reads per delivered message)."""
    from studio.adapters.redis_broker import RedisBroker
    from studio.adapters.sqlite_store import SqliteStore
    from studio.chat.threads import ThreadService
    from studio.kernel.context import Principal, RequestContext
    from studio.kernel.roles import Role
    from studio.realtime.broker_feed import BrokerFeeds, BrokerThreadFeed
    from studio.realtime.feed import ThreadFeed
    from studio.wiring import chat_channel

    port = free_port()
    server = _redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    db = folder / "store.db"
    store = SqliteStore(db, wake=True)
    broker = RedisBroker(url)
    hub = BrokerFeeds(broker, store, safety_poll_s=60)
    try:
        ctx = RequestContext("t_bench", "dev", Principal("u_bench"), Role.OWNER)
        thread_id = ThreadService(store).create(ctx, "bench", "muse")["id"]
        key = ("t_bench", "dev", thread_id)
        via_broker, via_listener = _Clock(MESSAGES), _Clock(MESSAGES)
        broker_feed = BrokerThreadFeed(hub, chat_channel(), key, loop)
        broker_feed.subscribers.add(via_broker)  # type: ignore[arg-type]
        listener_feed = ThreadFeed(store, chat_channel(), key, loop)
        listener_feed.subscribers.add(via_listener)  # type: ignore[arg-type]
        reads_before = hub.full_reads + hub.chunk_reads
        run_writer(_WRITER, db, url, thread_id, MESSAGES, GAP_S, "payloads" if payloads else "bare")
        via_broker.done.wait(10)
        via_listener.done.wait(10)
        reads = hub.full_reads + hub.chunk_reads - reads_before
        broker_feed.close()
        listener_feed.close()
        return via_broker.ms, via_listener.ms, reads / max(len(via_broker.ms), 1)
    finally:
        hub.close()
        broker.close()
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=5)
        server.terminate()
        server.wait(timeout=10)


def run(verbose: bool = False) -> list[Result]:
    heading("realtime broker: a message committed in one process -> a gateway feed in another")
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        carried, listener, carried_reads = _measure(Path(tmp), payloads=True)
    with tempfile.TemporaryDirectory(prefix="bench-broker-") as tmp:
        bare, _, bare_reads = _measure(Path(tmp), payloads=False)
    if verbose:
        print(f"  store reads per delivered message: {carried_reads:.3f} with the event in the hint, "
              f"{bare_reads:.3f} with bare hints")
    results = p50_p99("broker_wake", "post (commit) -> broker feed", "hint carries the event", carried,
                      "store listener + wake-ups", listener, verbose=verbose)
    results += p50_p99("broker_wake", "post (commit) -> broker feed, event in the hint vs bare hint",
                       "hint carries the event", carried, "bare hint + store read", bare, verbose=verbose)
    results.append(Result("broker_wake", "store reads per delivered message (event in the hint vs bare hint)",
                          carried_reads, "reads", bare_reads, "bare hint (0075)", goal=None,
                          extra={"samples": len(carried)}))
    return results


if __name__ == "__main__":
    for r in run(verbose=True):
        print(r.to_json())

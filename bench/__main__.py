"""``python -m bench``: every benchmark in sequence, a summary table, .data/bench-results.json.

Exit code 0 even on a MISS (benchmarks report, tests judge); 1 only when a benchmark
could not run at all.
"""
from __future__ import annotations

import argparse
import json
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from bench import (
    REPO,
    analytics_ingest,
    audits,
    broker_wake,
    cold_start,
    contract_latency,
    experiments_assign,
    fleet_fanout,
    fleet_presence_expiry,
    fleet_wake,
    fonts_css2,
    gateway_heap,
    gcp_cold_start,
    journey_funnel,
    kernel_latency,
    local_model,
    media_codecs,
    media_ingest,
    media_variants,
    nexus_ingest,
    nexus_quality,
    nexus_search,
    nexus_vectors,
    policy_filter,
    provenance_ledger,
    realtime_fanout,
    realtime_idle,
    realtime_ttft,
    store_ops,
    thread_seq_rate,
    tool_invoke,
    video_render,
)
from bench.common import ERROR, MISS, Result, heading, machine, result_rows

BENCHES: dict[str, tuple[str, Callable[[bool], list[Result]]]] = {
    "cold_start": ("Cold start per function vs bare functions-framework hello world: goal <= 1.3x to health, "
                   "<= 1.5x to the first authenticated request",
                   lambda verbose: cold_start.run(verbose)),
    "kernel_latency": ("Authenticated GET through the whole kernel vs bare functions-framework echo: "
                       "goal <= 2x latency (p50)", lambda verbose: kernel_latency.run(verbose)),
    "store_ops": ("SQLite store: write, read, 1,000-document query, paged scan (p50/p99) vs raw sqlite3",
                  lambda verbose: store_ops.run(verbose)),
    "realtime_fanout": ("Fan-out: 1,000 concurrent subscribers (half SSE, half WS) on one gateway process, "
                        "post -> delivery: goal p50 <= 20 ms, p99 <= 100 ms",
                        lambda verbose: realtime_fanout.run(verbose)),
    "realtime_idle": ("10,000 idle connections held by one gateway process: resident memory, goal < 1 GiB",
                      lambda verbose: realtime_idle.run(verbose)),
    "fleet_fanout": ("Fan-out with 1,000 and 5,000 subscribers over 2 gateway processes beside 1, and the fleet "
                     "simulation's prediction of the 2-process rounds (within 25 %), then of the target",
                     lambda verbose: fleet_fanout.run(verbose)),
    "gateway_heap": ("The gateway's heap with 5,000 open streams: one full collection and the pauses while they open, "
                     "with the heap policy (decision 0104) vs default thresholds; memory over connect/drop churn",
                     lambda verbose: gateway_heap.run(verbose)),
    "broker_wake": ("Realtime broker: a message committed in one process -> a gateway feed in another, via the "
                    "thread's Redis channel vs the store listener with wake-ups", lambda verbose: broker_wake.run(verbose)),
    "fleet_presence_expiry": ("Gateway fleet: kill -9 of a member -> its user's presence.leave on the other, at the "
                              "default heartbeat", lambda verbose: fleet_presence_expiry.run(verbose)),
    "fleet_wake": ("Gateway fleet: a write in one process -> a listener in another, with wake-ups vs the 50 ms poll",
                   lambda verbose: fleet_wake.run(verbose)),
    "thread_seq_rate": ("One hot thread: sustained messages/s with the per-thread counter, SQLite and the "
                        "Firestore emulator", lambda verbose: thread_seq_rate.run(verbose)),
    "analytics_ingest": ("Analytics ingest: events/s per instance and p99 latency, single events and 50-event "
                         "batches, beside the cheapest route on the same server (reported)",
                         lambda verbose: analytics_ingest.run(verbose)),
    "journey_funnel": ("A 4-step funnel over 1,000,000 events in DuckDB: goal <= 2 s, beside plain Python",
                       lambda verbose: journey_funnel.run(verbose)),
    "experiments_assign": ("Experiment assignments/s: in process and through OFREP bulk, beside the growthbook "
                           "SDK in process (reported)", lambda verbose: experiments_assign.run(verbose)),
    "realtime_ttft": ("Time to first token added by the platform over the provider's own: goal <= 20 ms; "
                      "store writes per 500-token reply vs one per token",
                      lambda verbose: realtime_ttft.run(verbose)),
    "gcp_cold_start": ("Cold start per function with the Google Cloud adapters (lazy clients) vs embedded "
                       "adapters: goal <= 1.2x", lambda verbose: gcp_cold_start.run(verbose)),
    "local_model": ("Local model (SmolLM2-135M in llama.cpp): load, time to first token, tokens/s and memory "
                    "beside the issue's figures (0.15 s, 95 tok/s, 200 MiB), reported",
                    lambda verbose: local_model.run(verbose)),
    "contract_latency": ("Contract-suite latency per operation, emulator vs SQLite (p50/p99, reported)",
                         lambda verbose: contract_latency.run(verbose)),
    "media_variants": ("Image variants per second per core vs Pillow alone doing the same resizes and encodes: "
                       "goal <= 1.15x Pillow's time; imgproxy's 2.4 images/s/core (29 MB JPEG -> 500 px) as context",
                       lambda verbose: media_variants.run(verbose)),
    "fonts_css2": ("Self-hosted CSS2: first request (fontTools subsets of every range) vs cached, reported",
                   lambda verbose: fonts_css2.run(verbose)),
    "video_render": ("Render overhead vs the raw ffmpeg graph (goal <= 1.05x); chunked vs single pass, 60 s 1080p "
                     "(goal >= 1.7x), chunk count and modelled N-instance speed-up",
                     lambda verbose: video_render.run(verbose)),
    "media_codecs": ("AVIF and WebP bytes vs JPEG at equal SSIM (>= 0.97, numpy SSIM), reported",
                     lambda verbose: media_codecs.run(verbose)),
    "media_ingest": ("1,000 small uploads through finalize: throughput and p50/p99 finalize -> ready, reported",
                     lambda verbose: media_ingest.run(verbose)),
    "provenance_ledger": ("Provenance: append cost of the hash chain, verify speed, C2PA signing vs JPEG "
                          "encoding (reported)", lambda verbose: provenance_ledger.run(verbose)),
    "policy_filter": ("Policy filter on 50 MB of chat-like text with planted identifiers: goal >= 10 MB/s, "
                      "Hyperscan triggers beside Python re", lambda verbose: policy_filter.run(verbose)),
    "tool_invoke": ("Tool invoke path: a no-op tool through every gate vs its handler called directly: "
                    "goal p50 overhead < 2 ms", lambda verbose: tool_invoke.run(verbose)),
    "nexus_vectors": ("Nexus: exact top-10 over 100,000 x 384: goal p50 <= 30 ms; Firestore emulator "
                      "find_nearest beside it", lambda verbose: nexus_vectors.run(verbose)),
    "nexus_ingest": ("Nexus: ingest passages/s and embeddings/s on this machine, reported",
                     lambda verbose: nexus_ingest.run(verbose)),
    "nexus_search": ("Nexus: search p50/p99 through HTTP per mode, reported",
                     lambda verbose: nexus_search.run(verbose)),
    "nexus_quality": ("Nexus: recall@10 and nDCG@10 per mode on the labelled set, reported",
                      lambda verbose: nexus_quality.run(verbose)),
    "audits": ("Page audits: wall time per page per breakpoint and pages/min per worker beside Lighthouse 12; "
               "static layout checks in nodes/ms (1,000 nodes < 50 ms)", lambda verbose: audits.run(verbose)),
}
RESULTS_FILE = REPO / ".data" / "bench-results.json"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true",
                        help="diagnosis: python -X importtime top 10 per function in the cold-start bench")
    parser.add_argument("--only", choices=sorted(BENCHES), action="append",
                        help="run just this benchmark (repeatable)")
    args = parser.parse_args()

    started = time.perf_counter()
    results: list[Result] = []
    failed: dict[str, str] = {}
    for name, (goal, bench) in BENCHES.items():
        if args.only and name not in args.only:
            continue
        print(f"\n# {name}: {goal}", flush=True)
        t0 = time.perf_counter()
        try:
            results.extend(bench(args.verbose))
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            failed[name] = traceback.format_exc()
            print(f"  {name} could not run:\n{failed[name]}", flush=True)
        print(f"  ({name}: {time.perf_counter() - t0:.1f} s)", flush=True)

    heading("summary")
    print(result_rows(results, with_bench=True))
    for name in failed:
        print(f"  {name}: {ERROR} (could not run, see above)")
    misses = [r for r in results if r.status == MISS]
    elapsed = time.perf_counter() - started
    print(f"\n  {sum(r.status == 'PASS' for r in results)} PASS, {len(misses)} MISS, "
          f"{len(failed)} ERROR; {elapsed:.0f} s total", flush=True)

    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps({
        "time": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "machine": machine(),
        "elapsed_s": round(elapsed, 1),
        "results": [r.to_json() for r in results],
        "errors": failed,
    }, indent=2, default=str) + "\n")
    print(f"  results: {RESULTS_FILE.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

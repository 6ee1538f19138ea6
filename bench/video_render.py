"""Video render: (1) the worker's overhead over the same ffmpeg graph run raw (one chunk, the audio mix,
concat and mux vs the chunk's ffmpeg command alone; goal <= 1.05x), (2) chunked vs single pass for a 60 s
1080p timeline on this machine (goal >= 1.7x speed-up), with the chunk count and the modelled speed-up for
N parallel instances (each chunk's measured time, chunks spread over N, plus the concat and mux).

The source is synthetic (lavfi testsrc2 and a sine, H.264/AAC); the plan and the runner are the worker's
(studio.video.plan, studio.video.render), only the store and bus around them are left out.
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import tempfile
import time
from typing import Any

from bench.common import Result, heading, result_rows

SRC = "as_" + "b" * 20


def _source(folder: str, seconds: float, width: int, height: int) -> str:
    path = os.path.join(folder, "source.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i",
                    f"testsrc2=s={width}x{height}:r=25:d={seconds}", "-f", "lavfi", "-i", f"sine=f=440:d={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    "-shortest", path], check=True)
    return path


def _plan(seconds: float, width: int, height: int, chunk_s: float) -> dict[str, Any]:
    from studio.video import plan, timeline

    tl = timeline.Timeline.model_validate({
        "tracks": [{"id": "v", "kind": "video", "clips": [{"id": "a", "source": SRC, "in": 0, "out": seconds}]}],
        "output": {"width": width, "height": height, "fps": 25, "codec": "h264", "quality": 23,
                   "chunk_seconds": chunk_s}})
    return plan.build(tl, {SRC: plan.Source(SRC, True, True)})


def _timed_run(the_plan: dict[str, Any], src: str, workers: int) -> tuple[float, dict[int, float]]:
    from studio.video import render

    chunk_times: dict[int, float] = {}
    started_at: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-render-") as work:
        runner = render.Runner(work, {"{src:" + SRC + "}": src}, lambda: False)

        def on_chunk(index: int, state: str, attempt: int) -> None:
            if state == "running":
                started_at[index] = time.perf_counter()
            else:
                chunk_times[index] = time.perf_counter() - started_at[index]

        started = time.perf_counter()
        runner.run(the_plan, workers, on_chunk)
        return time.perf_counter() - started, chunk_times


def _raw(the_plan: dict[str, Any], src: str) -> float:
    from studio.media.binaries import binary
    from studio.video import render

    with tempfile.TemporaryDirectory(prefix="bench-raw-") as work:
        argv = [binary("ffmpeg"), *render.resolve(the_plan["chunks"][0]["args"], work, {"{src:" + SRC + "}": src})]
        started = time.perf_counter()
        subprocess.run(argv, check=True)  # noqa: S603 - the plan's own argv
        return time.perf_counter() - started


def run(verbose: bool = False, seconds: float = 60.0, width: int = 1920, height: int = 1080) -> list[Result]:
    cores = os.cpu_count() or 1
    heading(f"video render: {seconds:.0f} s {width}x{height} H.264 timeline, {cores} cores")
    with tempfile.TemporaryDirectory(prefix="bench-video-") as folder:
        src = _source(folder, seconds, width, height)
        single = _plan(seconds, width, height, chunk_s=max(600.0, seconds + 1))
        raw_s = _raw(single, src)
        single_s, _ = _timed_run(single, src, 1)
        chunk_s = max(1.0, seconds / (4 * cores))
        chunked = _plan(seconds, width, height, chunk_s=chunk_s)
        chunked_s, times = _timed_run(chunked, src, cores)
    n_chunks = len(chunked["chunks"])
    # modelled: N instances each render ceil(chunks/N) chunks (at the measured per-chunk times, run alone
    # they would be ~cores times faster; this keeps the measured ones: conservative), then concat + mux
    per_chunk = sorted(times.values(), reverse=True)
    tail = max(0.0, chunked_s - sum(per_chunk) / cores)  # concat, mux, and waiting
    modelled = {n: single_s / (sum(per_chunk[: math.ceil(n_chunks / n)]) / max(1, math.ceil(n_chunks / n))
                               * math.ceil(n_chunks / n) + tail) for n in (1, 2, 4, 8, 16)}
    print(f"  raw ffmpeg graph {raw_s:.2f} s; worker single pass {single_s:.2f} s ({single_s / raw_s:.3f}x)")
    print(f"  chunked: {n_chunks} chunks of {chunk_s:.2f} s on {cores} workers {chunked_s:.2f} s "
          f"(speed-up {single_s / chunked_s:.2f}x)")
    print("  modelled speed-up for N instances: " + ", ".join(f"N={n}: {v:.1f}x" for n, v in modelled.items()))
    return [
        Result("video_render", "single-pass render vs the raw ffmpeg graph", single_s, "s", raw_s, "raw ffmpeg",
               goal=1.05, note="worker = chunk + audio mix (beside it) + concat + mux"),
        Result("video_render", f"chunked ({n_chunks} chunks) vs single pass", chunked_s, "s", single_s,
               "single pass", goal=1 / 1.7, note=f"speed-up {single_s / chunked_s:.2f}x; goal >= 1.7x",
               extra={"chunks": n_chunks, "modelled_speedup": {str(k): round(v, 2) for k, v in modelled.items()}}),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    args = parser.parse_args()
    print(result_rows(run(True, args.seconds, args.width, args.height)))

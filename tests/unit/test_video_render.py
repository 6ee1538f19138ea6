"""The render runner with Debian's ffmpeg: a chunk that fails is retried, a cancel kills the ffmpeg in
flight, and chunk boundaries never cut a fade or a crossfade."""
from __future__ import annotations

import os
import tempfile
import threading
import time

import pytest

from studio.video import plan, render, timeline

pytestmark = pytest.mark.usefixtures("media_tools")


def _chunk(index: int, source: str, seconds: float, work: str) -> dict[str, object]:
    return {"index": index, "files": {}, "output": f"{{work}}/c{index}.mp4",
            "args": ["-nostdin", "-y", "-v", "error", "-i", source, "-t", str(seconds), "-c:v", "libx264",
                     "-preset", "ultrafast", f"{{work}}/c{index}.mp4"]}


def test_a_failed_chunk_is_retried_and_reported() -> None:
    with tempfile.TemporaryDirectory() as work:
        missing = os.path.join(work, "late.mp4")
        attempts: list[tuple[int, int]] = []

        def hook(index: int, attempt: int) -> None:
            attempts.append((index, attempt))
            if attempt == 2:  # the input appears only for the second attempt: the first really fails
                render.Runner(work, {}, lambda: False).ffmpeg(
                    ["-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x48:d=0.5", missing])

        runner = render.Runner(work, {}, lambda: False)
        assert runner.chunk(_chunk(0, missing, 0.5, work), hook) == 2
        assert attempts == [(0, 1), (0, 2)] and os.path.getsize(os.path.join(work, "c0.mp4")) > 0
        with pytest.raises(render.RenderFailed, match="chunk 1 failed 3 times"):
            runner.chunk(_chunk(1, os.path.join(work, "never.mp4"), 0.5, work), lambda i, a: None)


def test_cancel_kills_the_ffmpeg_in_flight() -> None:
    with tempfile.TemporaryDirectory() as work:
        runner = render.Runner(work, {}, lambda: False)
        slow = ["-nostdin", "-y", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=s=320x240:d=60",
                "-c:v", "libx264", "{work}/slow.mp4"]  # -re: a minute of wall time unless stopped
        threading.Timer(0.5, runner.stop).start()
        started = time.monotonic()
        with pytest.raises(render.Cancelled):
            runner.ffmpeg(slow)
        assert time.monotonic() - started < 10


def test_chunk_boundaries_avoid_fades_and_transitions() -> None:
    src = "as_" + "a" * 20
    tl = timeline.Timeline.model_validate({"tracks": [{"id": "v", "kind": "video", "clips": [
        {"id": "a", "source": src, "in": 0, "out": 10, "start": 0, "fades": {"fade_out": 1.5}},
        {"id": "b", "source": src, "in": 0, "out": 10, "start": 9, "transition": {"duration": 1}}]}],
        "output": {"fps": 25, "chunk_seconds": 2}})
    starts = plan.boundaries(tl, 19 * 25)
    seconds = [f / 25 for f in starts]
    assert seconds[:5] == [0, 2, 4, 6, 8]  # 8.5-10 is a fade-out, 9-10 a crossfade: none cut
    assert 10.0 in seconds and all(not (8.5 < s < 10) for s in seconds)
    built = plan.build(tl, {src: plan.Source(src, True, False)})
    assert sum(c["frames"] for c in built["chunks"]) == built["frames"] == 19 * 25
    assert "anullsrc" in built["audio"]["filter"]  # no sound anywhere: a silent track


@pytest.mark.parametrize(("codec", "audio"), [("vp9", "opus"), ("av1", "opus")])
def test_webm_codecs_render_through_the_plan(codec: str, audio: str) -> None:
    import json
    import subprocess

    src = "as_" + "c" * 20
    with tempfile.TemporaryDirectory() as work:
        clip = os.path.join(work, "in.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=2",
                        "-f", "lavfi", "-i", "sine=d=2", "-c:v", "libx264", "-c:a", "aac", "-shortest", clip], check=True)
        tl = timeline.Timeline.model_validate({"tracks": [{"id": "v", "kind": "video", "clips": [
            {"id": "a", "source": src, "in": 0, "out": 2}]}],
            "output": {"width": 160, "height": 120, "codec": codec, "chunk_seconds": 1}})
        built = plan.build(tl, {src: plan.Source(src, True, True)})
        assert built["container"] == "webm" and len(built["chunks"]) == 2
        out = render.Runner(work, {"{src:" + src + "}": clip}, lambda: False).run(built, 2, lambda i, s, a: None)
        probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                           "stream=codec_name,nb_read_frames", "-of", "json", out],
                                          capture_output=True, text=True, check=True).stdout)
        names = [s["codec_name"] for s in probe["streams"]]
        assert names == [codec, audio] and int(probe["streams"][0]["nb_read_frames"]) == 50

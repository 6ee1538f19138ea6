"""Ducking through the plan's own audio graph on Debian's ffmpeg: while the key track sounds, the ducked
music is N dB quieter (±1 dB, measured with astats) whatever the key's loudness, and back after release."""
from __future__ import annotations

import os
import re
import subprocess
import tempfile

import pytest

from studio.video import ducking, plan, render, timeline

pytestmark = pytest.mark.usefixtures("media_tools")

KEY, MUSIC = "as_" + "a" * 20, "as_" + "b" * 20


def _ffmpeg(*args: str) -> str:
    return subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "info", *args], capture_output=True, text=True,
                          check=True).stderr


def _rms_db(path: str, start: float, seconds: float = 1.0) -> float:
    err = _ffmpeg("-ss", str(start), "-t", str(seconds), "-i", path, "-af",
                  "astats=measure_overall=RMS_level:measure_perchannel=none", "-f", "null", "-")
    return float(re.findall(r"RMS level dB:\s+(-?[\d.]+)", err)[-1])


def _sources(work: str, key_dbfs: float) -> dict[str, str]:
    key, music = os.path.join(work, "key.mp4"), os.path.join(work, "music.wav")
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=2", "-f", "lavfi",
            "-i", f"sine=f=1000:d=2:r=48000,volume={key_dbfs}dB", "-c:v", "libx264", "-c:a", "pcm_s16le",
            "-shortest", key.replace(".mp4", ".mov"))
    os.replace(key.replace(".mp4", ".mov"), key)
    _ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=6:r=48000,volume=-6dB", music)
    return {"{src:" + KEY + "}": key, "{src:" + MUSIC + "}": music}


def _ducked_music(work: str, files: dict[str, str], db: float) -> str:
    """The plan's audio step for a timeline where the key clip sounds from 2 s to 4 s, tapped before the
    final mix: the ducked music track alone, as the plan's graph made it."""
    tl = timeline.Timeline.model_validate({"tracks": [
        {"id": "main", "kind": "video", "clips": [{"id": "k", "source": KEY, "in": 0, "out": 2, "start": 2}]},
        {"id": "music", "kind": "audio", "ducking": {"under": "main", "db": db, "attack_ms": 20, "release_ms": 200},
         "clips": [{"id": "m", "source": MUSIC, "in": 0, "out": 6}]}],
        "output": {"width": 64, "height": 48}})
    built = plan.build(tl, {KEY: plan.Source(KEY, True, True), MUSIC: plan.Source(MUSIC, False, True)})
    lines = built["audio"]["filter"].split(";")
    assert "sidechaincompress" in built["audio"]["filter"] and lines[-1].endswith("[aout]")
    labels = re.findall(r"\[(\w+)\]", lines[-1].split("amix")[0])  # what the final mix takes in
    [music] = [x for x in labels if x.endswith("_d")]
    [key] = [x for x in labels if x != music]
    inputs = [x for i in built["audio"]["inputs"] for x in i["args"]]
    out = os.path.join(work, f"music_{db}.wav")
    _ffmpeg(*render.resolve(inputs, work, files), "-filter_complex", ";".join(lines[:-1]),
            "-map", f"[{music}]", out, "-map", f"[{key}]", "-f", "null", "-")
    return out


@pytest.mark.parametrize("key_dbfs", [-3.0, -40.0])
@pytest.mark.parametrize("db", [6.0, 12.0, 18.0])
def test_the_music_ducks_by_exactly_n_db_while_the_key_sounds(db: float, key_dbfs: float) -> None:
    with tempfile.TemporaryDirectory() as work:
        out = _ducked_music(work, _sources(work, key_dbfs), db)
        alone, under, after = _rms_db(out, 0.5), _rms_db(out, 2.5), _rms_db(out, 4.8)
        assert abs((alone - under) - db) <= 1.0, (alone, under)
        assert abs(alone - after) <= 1.0, (alone, after)  # released once the key stops


def test_the_threshold_is_solved_from_n() -> None:
    # reduction at a 0 dBFS key = -T * (1 - 1/ratio) = N
    for n in (1.0, 6.0, 12.0, 18.0, 40.0):
        assert abs(-ducking.threshold_db(n) * (1 - 1 / ducking.RATIO) - n) < 1e-9

"""A clip's mask, rendered by Debian's ffmpeg through the plan: where the mask is black (luma) or
transparent (alpha), the layer below shows; elsewhere the masked clip does. Single pass and chunked
plans mask alike, and the runner executes exactly the plan's steps."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from typing import Any

import pytest
from PIL import Image

from studio.kernel.errors import StudioError
from studio.video import plan, render, timeline

pytestmark = pytest.mark.usefixtures("media_tools")

RED, BLUE, MASK = "as_" + "1" * 20, "as_" + "2" * 20, "ar_" + "3" * 20
W, H, FPS = 160, 120, 25


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *args], check=True)


def _sources(work: str, mask_kind: str) -> dict[str, str]:
    """A red and a blue clip (2 s, different sizes from the output: the mask follows the clip's scale),
    and a mask whose left half hides the clip."""
    red, blue = os.path.join(work, "red.mp4"), os.path.join(work, "blue.mp4")
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=320x240:r=25:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", red)
    _ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=640x480:r=25:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", blue)
    if mask_kind == "alpha":  # opaque white everywhere; the left half transparent
        img = Image.new("RGBA", (64, 48), (255, 255, 255, 255))
        img.paste((255, 255, 255, 0), (0, 0, 32, 48))
    else:
        img = Image.new("L", (64, 48), 255)
        img.paste(0, (0, 0, 32, 48))
    png = os.path.join(work, "mask.png")
    img.save(png)
    if mask_kind != "video":
        return {RED: red, BLUE: blue, MASK: png}
    mask = os.path.join(work, "mask.mp4")  # a video mask (limited-range YUV: black must still mean 0)
    _ffmpeg("-loop", "1", "-framerate", "25", "-t", "2", "-i", png, "-c:v", "libx264", "-pix_fmt", "yuv420p", mask)
    return {RED: red, BLUE: blue, MASK: mask}


def _timeline(mode: str, chunk_s: float) -> timeline.Timeline:
    return timeline.Timeline.model_validate({"tracks": [
        {"id": "bg", "kind": "video", "clips": [{"id": "r", "source": RED, "in": 0, "out": 2}]},
        {"id": "top", "kind": "overlay", "clips": [
            {"id": "b", "source": BLUE, "in": 0, "out": 1.5, "start": 0.5, "mask": MASK, "mask_mode": mode}]}],
        "output": {"width": W, "height": H, "fps": FPS, "quality": 10, "chunk_seconds": chunk_s}})


def _frame(path: str, at: float) -> Image.Image:
    out = path + f".{at}.png"
    _ffmpeg("-ss", str(at), "-i", path, "-frames:v", "1", out)
    return Image.open(out).convert("RGB")


def _is(pixel: tuple[int, ...], colour: str) -> bool:
    r, g, b = pixel[:3]
    return {"red": r > 200 and g < 60 and b < 60, "blue": b > 200 and r < 60 and g < 60}[colour]


def _render(work: str, files: dict[str, str], built: dict[str, Any]) -> str:
    runner = render.Runner(work, {"{src:" + k + "}": v for k, v in files.items()}, lambda: False)
    out = runner.run(built, 2, lambda i, s, a: None)
    steps = [c["args"] for c in built["chunks"]] + [built["audio"]["args"], built["concat"]["args"], built["mux"]["args"]]
    assert sorted(map(json.dumps, runner.executed)) == sorted(map(json.dumps, steps))  # the plan, as planned
    return out


@pytest.mark.parametrize(("mask_kind", "mode"), [("image", "luma"), ("video", "luma"), ("alpha", "alpha")])
def test_a_half_black_mask_shows_the_layer_below_on_that_half(mask_kind: str, mode: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        files = _sources(work, mask_kind)
        found = {RED: plan.Source(RED, True, False), BLUE: plan.Source(BLUE, True, False),
                 MASK: plan.Source(MASK, mask_kind == "video", False, still=mask_kind != "video")}
        for chunk_s in (600.0, 0.5):  # single pass, then chunks that cut through the masked clip
            built = plan.build(_timeline(mode, chunk_s), found)
            assert len(built["chunks"]) == (1 if chunk_s == 600 else 4)
            assert all("alphamerge" in c["filter"] for c in built["chunks"] if c["end_s"] > 0.5)
            out = _render(work, files, built)
            before = _frame(out, 0.2)  # the masked clip has not started: red everywhere
            assert _is(before.getpixel((20, 60)), "red") and _is(before.getpixel((140, 60)), "red")
            for at in (0.8, 1.3, 1.8):  # inside each later chunk
                img = _frame(out, at)
                assert _is(img.getpixel((20, 60)), "red"), (chunk_s, at, img.getpixel((20, 60)))
                assert _is(img.getpixel((140, 60)), "blue"), (chunk_s, at, img.getpixel((140, 60)))


def test_a_mask_without_a_picture_is_refused() -> None:
    tl = _timeline("luma", 600)
    found = {RED: plan.Source(RED, True, False), BLUE: plan.Source(BLUE, True, False), MASK: plan.Source(MASK, False, True)}
    with pytest.raises(StudioError) as caught:
        plan.build(tl, found)
    assert caught.value.code.code == "MASK_NOT_VISUAL" and caught.value.status == 422
    assert plan.sources_used(tl) == sorted([RED, BLUE, MASK])  # the worker fetches the mask too

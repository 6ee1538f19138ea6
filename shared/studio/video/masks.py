"""A clip's mask in the render plan (decision 0090): an image or a video whose brightness (``luma``) or
alpha plane becomes the clip's opacity before the clip is laid over the layers below it.

The mask is scaled to the clip's picture (``scale2ref``: the plan does not know the source's size) and
merged as the clip's alpha (``alphamerge``) before the clip is padded to the frame and faded, so a fade
still fades the masked clip. A video mask runs in timeline time from the clip's start and holds its
last frame if it is shorter; an image mask holds for the whole clip. Each chunk opens the mask at its
own offset, so a chunked render masks exactly as a single pass does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.video.errors import MASK_NOT_VISUAL

if TYPE_CHECKING:
    from studio.video.plan import Source
    from studio.video.timeline import MediaClip


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") or "0"


def mask_input(clip: MediaClip, source: Source, a: float, b: float, fps: int) -> dict[str, Any]:
    """The ffmpeg input of ``clip``'s mask for the window [a, b) of the timeline."""
    assert clip.mask is not None
    src = "{src:" + clip.mask + "}"
    if source.still:  # one picture, repeated at the output rate for the window
        return {"source": clip.mask, "args": ["-loop", "1", "-framerate", str(fps), "-t", _num(b - a), "-i", src]}
    if source.has_video:
        return {"source": clip.mask, "args": ["-ss", _num(a - clip.start), "-t", _num(b - a), "-i", src]}
    raise errors.StudioError(MASK_NOT_VISUAL, f"the mask of clip {clip.id!r} ({clip.mask}) has no picture")


def masked(clip: MediaClip, n: int, k_clip: int, k_mask: int, fps: int, seconds: float,
           before: list[str], after: list[str]) -> list[str]:
    """The filter graph lines that make layer ``[s{n}]``: the clip's picture through ``before`` (scaled,
    with an alpha plane), its alpha replaced by the mask, then ``after`` (pad, place, fades)."""
    plane = "format=gray" if clip.mask_mode == "luma" else "format=yuva420p,alphaextract"  # gray: full range
    hold = f"tpad=stop_mode=clone:stop_duration={_num(seconds)},trim=duration={_num(seconds)}"
    return [
        f"[{k_clip}:v]{','.join(before)}[c{n}]",
        f"[{k_mask}:v]fps={fps},{plane},setpts=PTS-STARTPTS,{hold}[m{n}]",
        f"[m{n}][c{n}]scale2ref[mr{n}][cr{n}]",
        f"[cr{n}][mr{n}]alphamerge,{','.join(after)}[s{n}]",
    ]

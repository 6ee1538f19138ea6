"""Metadata of an upload: ffprobe for streams (duration, codecs, frame rate, channels), Pillow
for images (dimensions, EXIF orientation), with the decompression-bomb check before any decode."""
from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

from studio.media import binaries

MAX_PIXELS = 80_000_000  # 80 MP (e.g. 10,000 x 8,000): a bigger image is refused before it is decoded


class Unreadable(Exception):
    """The file is not what it claims, or is cut short: the asset fails with this reason."""


def _rate(raw: str | None) -> float | None:
    try:
        value = Fraction(raw or "")
    except (ValueError, ZeroDivisionError):
        return None
    return round(float(value), 3) if value > 0 else None


def probe_streams(path: str) -> dict[str, Any]:
    try:
        done = binaries.run([binaries.binary("ffprobe"), "-v", "error", "-print_format", "json", "-show_format",
                          "-show_streams", path], timeout_s=60)
    except binaries.ToolFailed as exc:
        raise Unreadable("unreadable: ffprobe could not parse the file") from exc
    info = json.loads(done.stdout or b"{}")
    streams = info.get("streams") or []
    if not streams:
        raise Unreadable("unreadable: no streams")
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = (info.get("format") or {}).get("duration")
    out: dict[str, Any] = {"duration_s": round(float(duration), 3) if duration not in (None, "N/A") else None,
                           "container": (info.get("format") or {}).get("format_name")}
    if video is not None:
        out.update(width=video.get("width"), height=video.get("height"), video_codec=video.get("codec_name"),
                   frame_rate=_rate(video.get("avg_frame_rate")) or _rate(video.get("r_frame_rate")))
    if audio is not None:
        out.update(audio_codec=audio.get("codec_name"), audio_channels=audio.get("channels"),
                   sample_rate=int(audio["sample_rate"]) if str(audio.get("sample_rate", "")).isdigit() else None)
    return out


def probe_image(data: bytes) -> dict[str, Any]:
    """Dimensions and EXIF orientation; the whole image is decoded (at 1/8 scale where the format
    allows) so a truncated file fails here, not in the optimiser."""
    import io

    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard, for any path that opens images
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:  # read from the header: nothing decoded yet
                raise Unreadable(f"decompression bomb: {width}x{height} is more than {MAX_PIXELS} pixels")
            orientation = int(im.getexif().get(0x0112, 1) or 1)
            frames = int(getattr(im, "n_frames", 1) or 1)
            im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            im.load()
            mode = im.mode
            icc = bool(im.info.get("icc_profile"))
    except Image.DecompressionBombError as exc:
        raise Unreadable("decompression bomb: more pixels than an image may decode to") from exc
    except UnidentifiedImageError:
        raise Unreadable("unreadable: not a decodable image") from None
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's truncated / corrupt data errors
        reason = "truncated" if "truncated" in str(exc).lower() else f"corrupt: {exc}"
        raise Unreadable(reason) from None
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn: the displayed size is swapped
        width, height = height, width
    return {"width": width, "height": height, "orientation": orientation, "frames": frames, "mode": mode,
            "icc_profile": icc}

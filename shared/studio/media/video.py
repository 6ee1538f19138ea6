"""Video: an H.264 proxy at most 720 lines high with the index up front (faststart, so it plays
while it downloads), and a poster frame."""
from __future__ import annotations

import os
import tempfile

from studio.media import binaries
from studio.media.images import Rendered

PROXY_PARAMS = {"codec": "h264", "max_height": 720, "crf": 23, "preset": "veryfast", "audio": "aac 128k",
                "faststart": True}


def render_proxy_and_poster(src_path: str, duration_s: float | None) -> list[Rendered]:
    ffmpeg = binaries.binary("ffmpeg")
    with tempfile.TemporaryDirectory(prefix="media-video-") as tmp:
        proxy = os.path.join(tmp, "proxy.mp4")
        binaries.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-i", src_path, "-map", "0:v:0", "-map", "0:a:0?",
                   "-vf", "scale=-2:'min(720,ih)':flags=bicubic", "-c:v", "libx264", "-preset", "veryfast",
                   "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-map_metadata", "-1",
                   "-movflags", "+faststart", proxy])
        at = min(1.0, (duration_s or 0) / 2)
        poster = os.path.join(tmp, "poster.jpg")
        binaries.run([ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", src_path, "-frames:v", "1",
                   "-vf", "scale='min(1280,iw)':-2", "-map_metadata", "-1", "-q:v", "3", poster])
        from PIL import Image

        with Image.open(poster) as im:
            pw, ph = im.size
        with open(proxy, "rb") as fh:
            proxy_bytes = fh.read()
        with open(poster, "rb") as fh:
            poster_bytes = fh.read()
    proxy_h = _proxy_height(proxy_bytes)
    return [Rendered("proxy", "video/mp4", "mp4", proxy_bytes, None, proxy_h, dict(PROXY_PARAMS)),
            Rendered("poster", "image/jpeg", "jpg", poster_bytes, pw, ph, {"at_s": round(at, 3), "max_width": 1280})]


def _proxy_height(data: bytes) -> int | None:
    from studio.media.probe import probe_streams

    with tempfile.NamedTemporaryFile(suffix=".mp4") as fh:
        fh.write(data)
        fh.flush()
        height = probe_streams(fh.name).get("height")
    return int(height) if isinstance(height, int) else None


def is_faststart(data: bytes) -> bool:
    """True when the MP4 index (moov) comes before the media data (mdat)."""
    moov, mdat = data.find(b"moov"), data.find(b"mdat")
    return 0 <= moov < mdat

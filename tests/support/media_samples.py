"""Media files made on the spot for tests and benches: a photo with GPS and a rotated EXIF
orientation, a clip with sound, a quiet voice note, and the hostile ones (truncated, bomb,
polyglot, executable)."""
from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import tempfile
import zlib


def photo(width: int = 2000, height: int = 1000, *, orientation: int = 6, gps: bool = True, seed: int = 0,
          quality: int = 90) -> bytes:
    """A JPEG with EXIF orientation and (by default) a GPS position, as phones write them."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (width, height), (30 + seed % 200, 120, 200))
    draw = ImageDraw.Draw(im)
    for i in range(0, width, max(1, width // 20)):
        draw.rectangle([i, 0, i + width // 40, height], fill=((i * 7 + seed) % 255, (i * 3) % 255, 90))
    draw.ellipse([width // 4, height // 4, width // 2, height // 2], fill=(250, 240, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    if gps:
        exif[0x8825] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, exif=exif.tobytes())
    return buf.getvalue()


def png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    from PIL import Image

    im = Image.new("RGBA", (width, height), (seed % 256, 10, 200, 255))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def bomb_png(side: int = 30_000) -> bytes:
    """A PNG header claiming side x side pixels (900 MP at 30,000) with a few bytes of data: what
    matters is that nothing decodes it."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + \
        _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    data = photo(800, 600, orientation=1, gps=False)
    return data[: len(data) // 2]


def polyglot_png() -> bytes:
    """A valid PNG with a ZIP archive (holding a script) after its IEND: a classic polyglot."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("run.php", "<?php system($_GET['c']); ?>")
    return png() + buf.getvalue()


def executable() -> bytes:
    """The head of a Windows PE file: 'MZ', a DOS stub, 'PE\\0\\0'."""
    return b"MZ\x90\x00" + b"\x00" * 56 + struct.pack("<I", 64) + b"PE\x00\x00" + os.urandom(512)


def _ffmpeg(args: list[str], suffix: str) -> bytes:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is needed (infra/install-media-tools.sh)"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out" + suffix)
        subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-y", *args, out], check=True, timeout=120)
        with open(out, "rb") as fh:
            return fh.read()


def clip(seconds: float = 2.0, width: int = 1280, height: int = 960) -> bytes:
    """An MP4 (H.264 + AAC) taller than 720 lines, with a tone, moov at the end (not faststart)."""
    return _ffmpeg(["-f", "lavfi", "-i", f"testsrc=size={width}x{height}:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"], ".mp4")


def voice_note(seconds: float = 3.0, volume_db: float = -30.0) -> bytes:
    """A quiet WAV (a tone well under -16 LUFS) for loudness normalisation."""
    return _ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}:sample_rate=44100",
                    "-af", f"volume={volume_db}dB", "-ac", "2"], ".wav")

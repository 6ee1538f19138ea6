"""Responsive image variants with Pillow: AVIF, WebP and JPEG at fixed widths, never upscaled,
orientation applied, colour converted to sRGB, every metadata block (EXIF with its GPS tags, XMP,
comments) left behind, plus a BlurHash placeholder.

Pillow writes only what it is given: a variant is saved without ``exif=``/``xmp=``, so nothing of
the original's metadata reaches it (tests read each variant back to prove it).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.media.probe import MAX_PIXELS, Unreadable

if TYPE_CHECKING:
    from PIL.Image import Image

WIDTHS = (320, 640, 1280, 1920)
FORMATS: dict[str, dict[str, Any]] = {  # encoder settings: the params recorded on each variant
    "avif": {"mime": "image/avif", "save": {"format": "AVIF", "quality": 55, "speed": 8}},
    "webp": {"mime": "image/webp", "save": {"format": "WEBP", "quality": 78, "method": 4}},
    "jpeg": {"mime": "image/jpeg", "save": {"format": "JPEG", "quality": 82, "optimize": True, "progressive": True}},
}
PLACEHOLDER_COMPONENTS = (4, 3)


@dataclass(frozen=True)
class Rendered:
    kind: str  # variant | placeholder
    mime: str
    ext: str
    data: bytes
    width: int | None
    height: int | None
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def target_widths(width: int) -> list[int]:
    """The widths to make for an image ``width`` wide: never wider than the original."""
    widths = [w for w in WIDTHS if w <= width]
    return widths or [width]


def open_upright_srgb(data: bytes, largest: int = WIDTHS[-1]) -> Image:
    """The image decoded once, turned upright, in sRGB, in RGB or RGBA. JPEG decodes at the
    smallest DCT scale still at least ``largest`` wide (much less work for big photos)."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    im = Image.open(io.BytesIO(data))
    if im.size[0] * im.size[1] > MAX_PIXELS:
        raise Unreadable(f"decompression bomb: {im.size[0]}x{im.size[1]}")
    if im.format == "JPEG":
        w, h = im.size
        scale = max(1, min(8, max(w, h) // max(1, largest)))
        if scale > 1:
            im.draft(im.mode if im.mode in ("RGB", "L") else "RGB", (w // scale, h // scale))
    icc = im.info.get("icc_profile")
    upright = ImageOps.exif_transpose(im)  # applies the EXIF orientation (and drops the tag)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    mode = "RGBA" if has_alpha else "RGB"
    if icc:
        upright = _to_srgb(upright, icc, mode)
    return upright if upright.mode == mode else upright.convert(mode)


def _to_srgb(im: Image, icc: bytes, mode: str) -> Image:
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if im.mode not in ("RGB", "RGBA", "CMYK", "L"):
            im = im.convert(mode)
        out_mode = mode if im.mode != "CMYK" else "RGB"
        converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode=out_mode)
        return converted if converted is not None else im
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im  # an unreadable profile: the pixels are taken as sRGB already


def render_variants(data: bytes, formats: tuple[str, ...] = ("avif", "webp", "jpeg")) -> list[Rendered]:
    """Every variant of one image, largest first, each resized from the upright original."""
    from PIL import Image

    base = open_upright_srgb(data)
    out: list[Rendered] = []
    for width in sorted(target_widths(base.width), reverse=True):
        height = max(1, round(base.height * width / base.width))
        sized = base if width == base.width else base.resize((width, height), Image.Resampling.LANCZOS,
                                                              reducing_gap=3.0)
        for fmt in formats:
            spec = FORMATS[fmt]
            frame = sized.convert("RGB") if fmt == "jpeg" and sized.mode != "RGB" else sized
            buf = io.BytesIO()
            frame.save(buf, **spec["save"])
            params = {"format": fmt, "width": width, **{k: v for k, v in spec["save"].items() if k != "format"}}
            out.append(Rendered("variant", spec["mime"], fmt if fmt != "jpeg" else "jpg", buf.getvalue(),
                                width, height, params))
    out.append(placeholder(base))
    return out


def placeholder(im: Image) -> Rendered:
    """A BlurHash of the image (a ~30-character string a client paints before the image loads)."""
    import blurhash

    small = im.convert("RGB")
    small.thumbnail((24, 24))  # 4x3 cosine components need few pixels (and the encoder is pure Python)
    raw, w = small.tobytes(), small.width
    rows = [[list(raw[(r * w + c) * 3:(r * w + c) * 3 + 3]) for c in range(w)] for r in range(small.height)]
    x, y = PLACEHOLDER_COMPONENTS
    value = str(blurhash.encode(rows, components_x=x, components_y=y))
    return Rendered("placeholder", "text/plain", "txt", value.encode("ascii"), im.width, im.height,
                    {"algorithm": "blurhash", "components": [x, y]}, {"blurhash": value})

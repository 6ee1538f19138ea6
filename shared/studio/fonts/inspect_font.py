"""What fontTools reads from a font file: names, style, weight, width, italic, variable axes and named
instances, unicode coverage per subset range, and the licence bits (OS/2 ``fsType``, name IDs 13/14)."""
from __future__ import annotations

import io
import struct
from typing import Any

from studio.fonts.errors import FONT_EMBEDDING_FORBIDDEN, FONT_UNREADABLE
from studio.kernel import errors

# The unicode-range subsets Google Fonts' CSS2 answers with (the common ones), as inclusive ranges.
SUBSETS: dict[str, tuple[tuple[int, int], ...]] = {
    "latin": ((0x0000, 0x00FF), (0x0131, 0x0131), (0x0152, 0x0153), (0x02BB, 0x02BC), (0x02C6, 0x02C6),
              (0x02DA, 0x02DA), (0x02DC, 0x02DC), (0x2000, 0x206F), (0x20AC, 0x20AC), (0x2122, 0x2122),
              (0x2191, 0x2191), (0x2193, 0x2193), (0x2212, 0x2212), (0x2215, 0x2215), (0xFEFF, 0xFEFF),
              (0xFFFD, 0xFFFD)),
    "latin-ext": ((0x0100, 0x02AF), (0x0304, 0x0304), (0x0308, 0x0308), (0x0329, 0x0329), (0x1E00, 0x1E9F),
                  (0x1EF2, 0x1EFF), (0x2020, 0x2020), (0x20A0, 0x20AB), (0x20AD, 0x20C0), (0x2113, 0x2113),
                  (0x2C60, 0x2C7F), (0xA720, 0xA7FF)),
    "cyrillic": ((0x0301, 0x0301), (0x0400, 0x045F), (0x0490, 0x0491), (0x04B0, 0x04B1), (0x2116, 0x2116)),
    "cyrillic-ext": ((0x0460, 0x052F), (0x1C80, 0x1C88), (0x20B4, 0x20B4), (0x2DE0, 0x2DFF), (0xA640, 0xA69F),
                     (0xFE2E, 0xFE2F)),
    "greek": ((0x0370, 0x0377), (0x037A, 0x037F), (0x0384, 0x038A), (0x038C, 0x038C), (0x038E, 0x03A1),
              (0x03A3, 0x03FF)),
    "greek-ext": ((0x1F00, 0x1FFF),),
    "vietnamese": ((0x0102, 0x0103), (0x0110, 0x0111), (0x0128, 0x0129), (0x0168, 0x0169), (0x01A0, 0x01A1),
                   (0x01AF, 0x01B0), (0x0300, 0x0301), (0x0303, 0x0304), (0x0308, 0x0309), (0x0323, 0x0323),
                   (0x0329, 0x0329), (0x1EA0, 0x1EF9), (0x20AB, 0x20AB)),
}
_RESTRICTED = 0x0002  # fsType bit 1: restricted licence embedding (no embedding without permission)


def _name(font: Any, *ids: int) -> str | None:
    table = font["name"]
    for name_id in ids:
        value = table.getDebugName(name_id)
        if value:
            return str(value)
    return None


def inspect(data: bytes) -> dict[str, Any]:
    """The font's facts; FONT_UNREADABLE for anything fontTools cannot open, FONT_EMBEDDING_FORBIDDEN when
    its licence bits forbid embedding (a web font and a burnt-in video title are both embeddings)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(io.BytesIO(data), lazy=True)
        flavor = font.flavor or ("otf" if "CFF " in font or "CFF2" in font else "ttf")
        os2 = font["OS/2"] if "OS/2" in font else None
        fs_type = int(os2.fsType) if os2 is not None else 0
        cmap = font.getBestCmap() or {}
        facts: dict[str, Any] = {
            "format": "woff2" if flavor == "woff2" else ("woff" if flavor == "woff" else flavor),
            "family": _name(font, 16, 1) or "Unnamed", "style": _name(font, 17, 2) or "Regular",
            "weight": int(os2.usWeightClass) if os2 is not None else 400,
            "width": int(os2.usWidthClass) if os2 is not None else 5,
            "italic": bool(os2 is not None and os2.fsSelection & 1) or bool(font["head"].macStyle & 2),
            "fs_type": fs_type, "license": _name(font, 13), "license_url": _name(font, 14),
            "glyphs": len(font.getGlyphOrder()), "codepoints": len(cmap),
            "axes": [], "instances": [],
        }
        if "fvar" in font:
            fvar = font["fvar"]
            facts["axes"] = [{"tag": a.axisTag, "min": a.minValue, "default": a.defaultValue, "max": a.maxValue}
                             for a in fvar.axes]
            facts["instances"] = [{"name": font["name"].getDebugName(i.subfamilyNameID) or "",
                                   "coordinates": dict(i.coordinates)} for i in fvar.instances]
    except (TTLibError, KeyError, AssertionError, ValueError, struct.error) as exc:
        raise errors.StudioError(FONT_UNREADABLE, f"fontTools cannot read it: {type(exc).__name__}") from None
    facts["subsets"] = [name for name, ranges in SUBSETS.items()
                        if any(lo <= cp <= hi for cp in cmap for lo, hi in ranges)]
    if fs_type & _RESTRICTED:
        raise errors.StudioError(FONT_EMBEDDING_FORBIDDEN, "OS/2 fsType has the restricted-licence bit (0x0002)",
                                 fs_type=fs_type)
    return facts


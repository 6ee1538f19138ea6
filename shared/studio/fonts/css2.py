"""Self-hosted Google-Fonts-CSS2: ``/fonts/{site_key}/css2?family=Inter:wght@100..900&display=swap&text=``.

The site key in the path is a kernel site key of scope ``fonts.css`` (kernel/site_keys.py; a ``<link>``
can carry it nowhere else). One ``@font-face`` per unicode-range subset the font covers (latin, latin-ext, cyrillic, greek, vietnamese
...), each a WOFF2 subset made with fontTools, stored once under its content hash in the blob store and
reused (a document per (font, subset, text) remembers the object). ``text=`` gives one exact subset. Only
fonts the tenant marked public are served. Variable-axis narrowing (the instancer) is not done yet: a
variable font is served with its full axes.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from studio.fonts import paths
from studio.fonts.inspect_font import SUBSETS
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.ports.blobs import BlobStore
from studio.ports.store import Document, DocumentStore, Filter, Query

URL_EXPIRES_S = 7 * 24 * 3600  # the longest a signed URL lives on Cloud Storage; a CDN fronts it in production
_DISPLAY = ("auto", "block", "swap", "fallback", "optional")
_FAMILY = re.compile(r"^([A-Za-z0-9 ]{1,64})(?::([a-z,]{1,20})@([0-9.;,]{1,200}))?$")


@dataclass(frozen=True)
class Wanted:
    family: str
    styles: tuple[tuple[bool, float, float], ...]  # (italic, weight from, weight to)


def parse_family(raw: str) -> Wanted:
    """``Inter``, ``Inter:wght@400;700``, ``Inter:wght@100..900``, ``Inter:ital,wght@0,400;1,700``."""
    found = _FAMILY.match(raw.replace("+", " "))
    if not found:
        raise errors.StudioError(errors.VALIDATION_FAILED, f"family {raw[:80]!r} is not CSS2 syntax")
    name, axes, values = found.group(1).strip(), found.group(2), found.group(3)
    if not axes:
        return Wanted(name, ((False, 400, 400),))
    tags = axes.split(",")
    if not set(tags) <= {"ital", "wght"} or len(set(tags)) != len(tags):
        raise errors.StudioError(errors.VALIDATION_FAILED, "only the ital and wght axes are served")
    styles = []
    for tuple_ in values.split(";"):
        parts = tuple_.split(",")
        if len(parts) != len(tags):
            raise errors.StudioError(errors.VALIDATION_FAILED, f"axis tuple {tuple_!r} does not match {axes}")
        got = dict(zip(tags, parts, strict=True))
        lo, _, hi = got.get("wght", "400").partition("..")
        try:
            wlo, whi = float(lo), float(hi or lo)
        except ValueError:
            raise errors.StudioError(errors.VALIDATION_FAILED, f"weight {got.get('wght')!r}") from None
        if not (1 <= wlo <= whi <= 1000):
            raise errors.StudioError(errors.VALIDATION_FAILED, "weights run from 1 to 1000")
        styles.append((got.get("ital", "0") == "1", wlo, whi))
    return Wanted(name, tuple(styles))


def _ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"U+{lo:04X}" if lo == hi else f"U+{lo:04X}-{hi:04X}" for lo, hi in ranges)


class Css2:
    def __init__(self, store: DocumentStore, blobs: BlobStore) -> None:
        self._store = store
        self._blobs = blobs

    def stylesheet(self, tenant_id: str, env: str, families: list[str], display: str, text: str | None) -> str:
        """The tenant env's stylesheet (the kernel resolved the site key in the URL to it)."""
        if not families or len(families) > 10:
            raise errors.StudioError(errors.VALIDATION_FAILED, "ask for 1 to 10 families")
        if display not in _DISPLAY:
            raise errors.StudioError(errors.VALIDATION_FAILED, f"display must be one of {', '.join(_DISPLAY)}")
        blocks = []
        for raw in families:
            wanted = parse_family(raw)
            fonts = self._store.query(Query(paths.fonts(tenant_id, env), [
                Filter("family", "==", wanted.family), Filter("public", "==", True)], limit=50)).docs
            for font in fonts:
                f = font.data["facts"]
                for italic, wlo, whi in wanted.styles:
                    if bool(f["italic"]) != italic or not (wlo <= f["weight"] <= whi):
                        continue
                    blocks += self._faces(tenant_id, env, font, display, text)
        if not blocks:
            raise errors.NotFound("no public font of this site matches")
        return "\n".join(blocks)

    def _faces(self, tenant_id: str, env: str, font: Document, display: str, text: str | None) -> list[str]:
        f = font.data["facts"]
        if text is not None:
            cps = sorted({ord(ch) for ch in text})[:2000]
            subsets = [("text", tuple((cp, cp) for cp in cps))]
        else:
            subsets = [(name, SUBSETS[name]) for name in SUBSETS if name in f["subsets"]]
        out = []
        for name, ranges in subsets:
            url = self._subset_url(tenant_id, env, font, name, ranges)
            out.append(
                f"/* {name} */\n@font-face {{\n  font-family: '{f['family']}';\n  font-style: "
                f"{'italic' if f['italic'] else 'normal'};\n  font-weight: {f['weight']};\n  font-display: {display};\n"
                f"  src: url({url}) format('woff2');\n  unicode-range: {_ranges(ranges)};\n}}")
        return out

    def _subset_url(self, tenant_id: str, env: str, font: Document, name: str,
                    ranges: tuple[tuple[int, int], ...]) -> str:
        key = hashlib.sha256(f"{font.data['sha256']}|{name}|{ranges}".encode()).hexdigest()[:32]
        cache_path = paths.subset(tenant_id, env, key)
        cached = self._store.get(cache_path)
        if cached is None:
            data = subset_woff2(self._blobs.get(font.data["object"]["bucket"], font.data["object"]["name"])[0], ranges)
            sha = hashlib.sha256(data).hexdigest()
            obj = paths.font_object(tenant_id, env, sha, "woff2")
            if self._blobs.stat(paths.FONTS_BUCKET, obj) is None:
                self._blobs.put(paths.FONTS_BUCKET, obj, data, "font/woff2")  # named by its hash: never changes
            self._store.put(cache_path, {"object": obj, "font_id": font.doc_id, "subset": name, "created_at": utc_now()})
        else:
            obj = cached.data["object"]
        return self._blobs.signed_url(paths.FONTS_BUCKET, obj, method="GET", expires_s=URL_EXPIRES_S)


def subset_woff2(font_bytes: bytes, ranges: tuple[tuple[int, int], ...]) -> bytes:
    """The glyphs of ``ranges`` (what the font has of them), as WOFF2, layout features kept."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_bytes))
    cmap = font.getBestCmap() or {}
    unicodes = [cp for cp in cmap if any(lo <= cp <= hi for lo, hi in ranges)]
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    sub = subset.Subsetter(options)
    sub.populate(unicodes=unicodes)
    sub.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff2"
    font.save(buf)
    return buf.getvalue()


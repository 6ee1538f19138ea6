"""What an upload really is, read from its bytes (never its name or declared type).

``filetype`` reads the magic numbers. On top of it, two checks of our own: an executable or
script anywhere it could run (PE, ELF, Mach-O, shebang, HTML/PHP) and, for images, bytes past
the image's own end that hold an archive or a script (a polyglot such as a GIFAR or a PNG with a
PHP tail). Either quarantines the upload: it is kept for inspection, never processed or served.

Documents (documents.py): a PDF by its magic number; text by being UTF-8 without binary bytes, its
type (plain, Markdown, HTML) taken from the declaration, since bytes cannot tell those apart. HTML is
a document only when declared ``text/html``; markup in anything else is still quarantined.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from studio.media import documents

Verdict = Literal["ok", "unsupported", "quarantine"]

# Types we process, by sniffed mime -> asset kind.
SUPPORTED: dict[str, str] = {
    "image/jpeg": "image", "image/png": "image", "image/gif": "image", "image/webp": "image",
    "image/tiff": "image", "image/bmp": "image", "image/avif": "image", "image/apng": "image",
    "video/mp4": "video", "video/quicktime": "video", "video/webm": "video", "video/x-matroska": "video",
    "video/x-m4v": "video", "video/x-msvideo": "video", "video/mpeg": "video", "video/3gpp": "video",
    "audio/mpeg": "audio", "audio/x-wav": "audio", "audio/ogg": "audio", "audio/x-flac": "audio",
    "audio/mp4": "audio", "audio/aac": "audio", "audio/x-aiff": "audio",
    **{mime: "document" for mime in documents.DOCUMENT_TYPES},
}
_EXECUTABLE_HEADS = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                     b"\xcf\xfa\xed\xfe", b"#!", b"\x00asm")
_SCRIPT = re.compile(rb"<\?php|<script[\s>]|<html[\s>]|<!doctype html|<svg[\s>]", re.IGNORECASE)
_ARCHIVE = re.compile(rb"PK\x03\x04|Rar!\x1a\x07|7z\xbc\xaf\x27\x1c|MZ\x90\x00")
_SERVER_SCRIPT = re.compile(rb"<\?php", re.IGNORECASE)
_SCRIPT_WINDOW = 64 * 1024  # markup is looked for where browsers sniff (the head) and in image tails


@dataclass(frozen=True)
class Sniffed:
    mime: str  # what the bytes are ("application/octet-stream" when unknown)
    kind: str | None  # image | video | audio | document, None when unsupported
    verdict: Verdict
    reason: str | None = None


def _image_end(data: bytes, mime: str) -> int | None:
    """Where the image format's own data ends, for formats whose end is marked."""
    if mime in ("image/png", "image/apng"):
        at = data.rfind(b"IEND")
        return None if at < 0 else at + 8  # chunk type + CRC
    if mime == "image/jpeg":
        at = data.rfind(b"\xff\xd9")
        return None if at < 0 else at + 2
    if mime == "image/gif":
        at = data.rfind(b"\x3b")
        return None if at < 0 else at + 1
    return None


def sniff(data: bytes, declared: str | None = None) -> Sniffed:
    """``declared``: the client's type, used only to name a text document (plain, Markdown or HTML)."""
    import filetype  # small, but only the ingest needs it

    head = data[:_SCRIPT_WINDOW]
    if data.startswith(_EXECUTABLE_HEADS):
        return Sniffed("application/x-executable", None, "quarantine", "executable content")
    guess = filetype.guess(data[:8192])
    mime = guess.mime if guess is not None else "application/octet-stream"
    if guess is None and documents.is_text(data):
        text_mime = documents.text_type(declared)
        if _SERVER_SCRIPT.search(head):
            return Sniffed("text/html", None, "quarantine", "script content")
        if text_mime != "text/html" and _SCRIPT.search(head):
            return Sniffed("text/html", None, "quarantine", "script or markup content")
        return Sniffed(text_mime, "document", "ok")
    if guess is None and _SCRIPT.search(head):
        return Sniffed("text/html", None, "quarantine", "script or markup content")
    kind = SUPPORTED.get(mime)
    if kind == "image":
        end = _image_end(data, mime)
        tail = data[end:] if end is not None else b""
        if tail and (_ARCHIVE.search(tail) or _SCRIPT.search(tail)):
            return Sniffed(mime, kind, "quarantine", "polyglot: an archive or script follows the image")
        if _SCRIPT.search(head):
            return Sniffed(mime, kind, "quarantine", "polyglot: script or markup inside the image")
    if kind is None:
        return Sniffed(mime, None, "unsupported", "unsupported")
    return Sniffed(mime, kind, "ok")


def declared_matches(declared: str | None, sniffed: str) -> bool:
    """Lenient on aliases (image/jpg, audio/wav ...): a mismatch is recorded, not refused."""
    if not declared:
        return True
    aliases = {"image/jpg": "image/jpeg", "audio/wav": "audio/x-wav", "audio/wave": "audio/x-wav",
               "audio/flac": "audio/x-flac", "audio/mp3": "audio/mpeg", "video/mkv": "video/x-matroska",
               "audio/m4a": "audio/mp4", "audio/x-m4a": "audio/mp4"}
    declared = documents.normal_type(declared) or ""
    want = aliases.get(declared, declared)
    return want == sniffed or (want, sniffed) in {("image/png", "image/apng"), ("video/mp4", "video/x-m4v"),
                                                  ("audio/ogg", "video/ogg")}

"""Documents as media (kind ``document``): plain text, Markdown, HTML and PDF, for Nexus to ingest.

What a document is comes from its bytes, as for any upload: a PDF starts with ``%PDF``; text is valid
UTF-8 without NULs or other binary control bytes. Text cannot tell plain from Markdown from HTML, so
for text the declared type picks among the three (HTML only when declared so: markup posing as plain
text stays quarantined, sniff.py). A document whose declared type disagrees with its bytes (a PNG
named ``.pdf``, a PDF declared as an image) is refused: the asset fails with ``type mismatch``.

Metadata: the byte count, and the page count (plus the PDF's own title and author, through the
tenant's privacy policy) or the character and line counts. No optimiser variants: the bytes are
what Nexus reads (docs/decisions/0084-documents-as-media.md).
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from studio.media.probe import Unreadable

PDF = "application/pdf"
TEXT_TYPES = ("text/plain", "text/markdown", "text/html")
DOCUMENT_TYPES = (PDF, *TEXT_TYPES)
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a 300-page PDF with images fits; Nexus keeps 400,000 chars of text
MISMATCH = "type mismatch:"  # how a failed asset's reason starts when a document lied about its type
_ALIASES = {"text/x-markdown": "text/markdown", "text/md": "text/markdown"}
# Bytes no text file holds: NUL and the C0 controls except tab, newline, form feed and carriage return.
_BINARY = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"

MetaFilter = Callable[[dict[str, Any]], dict[str, Any]]


def normal_type(declared: str | None) -> str | None:
    """The declared type without parameters, lower case, with Markdown's aliases folded."""
    if not declared:
        return None
    base = declared.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def is_document_type(declared: str | None) -> bool:
    return normal_type(declared) in DOCUMENT_TYPES


def mismatch_reason(declared: str | None, sniffed: str) -> str:
    return f"{MISMATCH} declared {declared}, the bytes are {sniffed}"


def is_mismatch_reason(reason: str | None) -> bool:
    return bool(reason) and str(reason).startswith(MISMATCH)


def is_text(data: bytes) -> bool:
    """Valid UTF-8 (a BOM allowed) holding no NUL or other binary control byte."""
    if not data or any(b in data for b in _BINARY):  # bytes.__contains__ on ints: one scan per control byte
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def text_type(declared: str | None) -> str:
    """The text type the declaration picks (plain text when it names none)."""
    want = normal_type(declared)
    return want if want in TEXT_TYPES else "text/plain"


def probe_document(mime: str, data: bytes, meta_filter: MetaFilter | None = None) -> dict[str, Any]:
    """The document's metadata; raises Unreadable for a PDF pypdf cannot open."""
    if mime == PDF:
        return _probe_pdf(data, meta_filter)
    text = data.decode("utf-8-sig")
    return {"bytes": len(data), "chars": len(text), "lines": text.count("\n") + (0 if text.endswith("\n") else 1)}


def _probe_pdf(data: bytes, meta_filter: MetaFilter | None) -> dict[str, Any]:
    from pypdf import PdfReader  # on the first PDF, not at import (cold start)
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = bool(reader.is_encrypted)
        if encrypted and not reader.decrypt(""):
            raise Unreadable("unreadable: the PDF is encrypted with a password")
        pages = len(reader.pages)
        info: Any = reader.metadata or {}
        people = {"title": _info_text(info.get("/Title")), "author": _info_text(info.get("/Author"))}
    except Unreadable:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            NotImplementedError):
        # pypdf raises a range of errors on a damaged file: the asset fails with a reason, never a crash
        raise Unreadable("unreadable: not a readable PDF") from None
    if meta_filter is not None:
        people = meta_filter(people)
    return {"bytes": len(data), "pages": pages, "encrypted": encrypted, **people}


def _info_text(value: Any) -> str | None:
    """A document-info string, bounded (people write these, and a hostile file writes anything)."""
    if value is None:
        return None
    text = " ".join(str(value).split())[:200]
    return text or None

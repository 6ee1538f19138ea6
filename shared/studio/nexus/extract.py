"""Plain text from a raw document: text and Markdown as they are, HTML through the standard library's
parser (block elements become paragraphs, h1-h6 become Markdown headings so the chunker sees the same
structure), PDF through pypdf (imported on first use), a page per paragraph block."""
from __future__ import annotations

import base64
import binascii
import io
import re
from html.parser import HTMLParser
from typing import Literal

from studio.kernel import errors
from studio.nexus.errors import NEXUS_DOCUMENT_TOO_LARGE, NEXUS_DOCUMENT_UNREADABLE

Format = Literal["text", "markdown", "html", "pdf"]
MAX_TEXT_CHARS = 400_000  # Firestore keeps 1 MiB per document; the raw text shares it with nothing big
MAX_PDF_PAGES = 300
_BLOCKS = {"p", "div", "section", "article", "li", "ul", "ol", "table", "tr", "blockquote", "pre", "br", "header",
           "footer", "main", "aside", "nav", "figure", "figcaption", "dd", "dt", "hr"}
_SKIP = {"script", "style", "head", "template", "noscript", "svg"}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


def to_text(fmt: Format, content: str) -> str:
    """The document's text (what atoms' offsets point into), from a request body (a PDF as base64)."""
    if fmt == "pdf":
        return _clean(_pdf_text(_base64(content)))
    return _clean(_html_text(content) if fmt == "html" else content)


def bytes_to_text(fmt: Format, data: bytes) -> str:
    """The same from a file's bytes (a media asset): a PDF as it is, text as UTF-8."""
    if fmt == "pdf":
        return _clean(_pdf_text(data))
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise errors.StudioError(NEXUS_DOCUMENT_UNREADABLE, "the document is not UTF-8 text") from None
    return _clean(_html_text(content) if fmt == "html" else content)


def _clean(text: str) -> str:
    text = re.sub(r"[ \t\r\f\v]+\n", "\n", text.replace("\r\n", "\n")).strip()
    if len(text) > MAX_TEXT_CHARS:
        raise errors.StudioError(NEXUS_DOCUMENT_TOO_LARGE, f"documents hold at most {MAX_TEXT_CHARS} characters "
                                                           f"of text (this one {len(text)})")
    if not text:
        raise errors.StudioError(NEXUS_DOCUMENT_UNREADABLE, "the document holds no text")
    return text


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADINGS or tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def _html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    blocks = [b.strip() for b in re.split(r"\n\s*\n", "".join(parser.parts))]
    return "\n\n".join(b for b in blocks if b and b.strip("# "))


def _base64(content_b64: str) -> bytes:
    try:
        return base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise errors.StudioError(NEXUS_DOCUMENT_UNREADABLE, "a PDF is sent as base64") from None


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if len(reader.pages) > MAX_PDF_PAGES:
            raise errors.StudioError(NEXUS_DOCUMENT_TOO_LARGE, f"PDFs have at most {MAX_PDF_PAGES} pages")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except errors.StudioError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError):
        # pypdf raises a range of errors on a damaged file; none is ours to crash on
        raise errors.StudioError(NEXUS_DOCUMENT_UNREADABLE, "the PDF could not be read") from None
    return "\n\n".join(p for p in pages if p)

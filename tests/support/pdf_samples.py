"""Small real PDFs written by hand (no PDF writer needed): one page of text, optionally a document-info
dictionary (title, author), which pypdf reads like any producer's."""
from __future__ import annotations

import io


def _literal(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(text: str, info: dict[str, str] | None = None) -> bytes:
    """A one-page PDF showing ``text``; ``info``: its /Info entries (e.g. {"Title": ..., "Author": ...})."""
    stream = f"BT /F1 12 Tf 72 720 Td ({_literal(text)}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    if info:
        objects.append(("<< " + " ".join(f"/{k} ({_literal(v)})" for k, v in info.items()) + " >>").encode())
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    info_ref = f" /Info {len(objects)} 0 R" if info else ""
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()

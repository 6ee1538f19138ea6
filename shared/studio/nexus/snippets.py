"""The matched snippet of a result: the window of the card's body with the most query words (stemmed
as keyword search stems them), widened to word boundaries; the body's start when none match."""
from __future__ import annotations

import re

from studio.nexus.keyword import stem_words, tokenize

_WORD = re.compile(r"\w+", re.UNICODE)


def snippet(body: str, query: str, width: int = 240) -> str:
    text = " ".join(body.split())
    if len(text) <= width:
        return text
    terms = set(tokenize([query])[0]) if query.strip() else set()
    words = list(_WORD.finditer(text))
    hits = []
    if terms and words:
        stemmed = stem_words([w.group(0).lower() for w in words])
        hits = [w.start() for w, s in zip(words, stemmed, strict=True) if s in terms]
    if not hits:
        return _cut(text, 0, width)
    best, best_count = hits[0], 0
    for h in hits:  # the window (starting a little before a hit) holding the most hits
        count = sum(1 for other in hits if h <= other < h + width)
        if count > best_count:
            best, best_count = h, count
    return _cut(text, max(0, best - width // 6), width)


def _cut(text: str, start: int, width: int) -> str:
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return ("… " if start > 0 else "") + text[start:end] + (" …" if end < len(text) else "")

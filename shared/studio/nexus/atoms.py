"""Atoms: a document's text cut along its structure to a token budget, with overlap.

Sections start at Markdown headings (HTML's are turned into them by extract.py); an atom never
crosses a section. Inside a section, paragraphs are packed whole while they fit the budget; a
paragraph longer than the budget is cut into word windows. Each atom after the first of its section
starts ``overlap`` tokens before the previous one ended, so a sentence cut at a boundary is whole in
one of them. Offsets are character offsets into the document's text: ``text[start:end]`` is the atom.
Tokens are estimated as 4/3 per word (what WordPiece averages on English prose), so cutting needs no
tokenizer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\n\s*\n|\Z)", re.DOTALL)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Atom:
    n: int
    start: int
    end: int
    heading: str  # the section's heading path, "Guide > Colours"; "" before the first heading

    def as_dict(self) -> dict[str, object]:
        return {"n": self.n, "start": self.start, "end": self.end, "heading": self.heading}


def estimate_tokens(text: str) -> int:
    return (len(_WORD.findall(text)) * 4 + 2) // 3


def cut(text: str, max_tokens: int = 200, overlap_tokens: int = 30) -> list[Atom]:
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    max_words = max(1, max_tokens * 3 // 4)
    overlap_words = overlap_tokens * 3 // 4
    atoms: list[Atom] = []
    for start, end, heading in _sections(text):
        words = [(m.start(), m.end()) for m in _WORD.finditer(text, start, end)]
        if not words:
            continue
        # paragraph boundaries, as word indexes: a window prefers to end on one
        breaks = {0, len(words)}
        for para in _PARAGRAPH.finditer(text, start, end):
            breaks.add(_word_index(words, para.start()))
        first = 0
        while first < len(words):
            limit = min(len(words), first + max_words)
            ends = [b for b in breaks if first < b <= limit]
            last = max(ends) if limit < len(words) and ends and max(ends) > first + max_words // 2 else limit
            atoms.append(Atom(len(atoms), words[first][0], words[last - 1][1], heading))
            if last >= len(words):
                break
            first = max(first + 1, last - overlap_words)
    return atoms


def _word_index(words: list[tuple[int, int]], offset: int) -> int:
    for i, (s, _) in enumerate(words):
        if s >= offset:
            return i
    return len(words)


def _sections(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading path) of each section; a heading line belongs to its section's text."""
    marks = list(_HEADING.finditer(text))
    sections: list[tuple[int, int, str]] = []
    if not marks or marks[0].start() > 0:
        sections.append((0, marks[0].start() if marks else len(text), ""))
    trail: list[tuple[int, str]] = []
    for i, m in enumerate(marks):
        level, title = len(m.group(1)), m.group(2).strip()
        trail = [t for t in trail if t[0] < level] + [(level, title)]
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections.append((m.start(), end, " > ".join(t for _, t in trail)))
    return sections

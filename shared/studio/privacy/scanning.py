"""Candidate finding: every detector's triggers over the whole text, by one of two engines.

* ``HyperscanEngine`` (default when the ``hyperscan`` wheel is installed): all triggers compiled into one
  Hyperscan database, one pass over the UTF-8 bytes, every match reported with its leftmost start.
* ``ReEngine``: the same triggers, one Python ``re`` pass per detector. The fallback, and the baseline of
  ``bench/policy_filter.py``.

Both return the trigger spans in character offsets of the detectors that matched (by index into
``catalog.DETECTORS``; a detector with no match is absent, so a clean text costs one scan and no loop).
Confirmation (``pii.find_pii``) is the same whichever engine found the candidates, so the engine decides
only the speed, never the findings, as long as its trigger matches cover the same ground.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import cache
from typing import Any, Protocol

from studio.privacy.catalog import DETECTORS, Detector

Spans = list[tuple[int, int]]
Triggered = dict[int, Spans]  # detector index -> its trigger spans


class Engine(Protocol):
    name: str

    def triggers(self, text: str) -> Triggered:
        """Per detector that matched, the spans of its triggers (possibly overlapping, any order)."""
        ...


class ReEngine:
    name = "re"

    def __init__(self, table: Sequence[Detector] = DETECTORS) -> None:
        self._patterns = [re.compile("|".join(f"(?:{t})" for t in det.triggers), re.IGNORECASE if det.caseless else 0)
                          for det in table]

    def triggers(self, text: str) -> Triggered:
        found: Triggered = {}
        for index, pattern in enumerate(self._patterns):
            spans = [m.span() for m in pattern.finditer(text)]
            if spans:
                found[index] = spans
        return found


class HyperscanEngine:
    name = "hyperscan"

    def __init__(self, table: Sequence[Detector] = DETECTORS) -> None:
        import hyperscan

        expressions: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        for index, det in enumerate(table):
            for trigger in det.triggers:
                expressions.append(trigger.encode("ascii"))
                ids.append(index)
                flags.append(hyperscan.HS_FLAG_SOM_LEFTMOST | hyperscan.HS_FLAG_UTF8
                             | (hyperscan.HS_FLAG_CASELESS if det.caseless else 0))
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
        self._fallback = ReEngine(table)
        self._local = threading.local()  # scratch space is per thread in Hyperscan

    def triggers(self, text: str) -> Triggered:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not UTF-8, which Hyperscan's UTF-8 mode requires
            return self._fallback.triggers(text)
        found: Triggered = {}

        def on_match(index: int, start: int, end: int, _flags: int, _context: Any) -> None:
            spans = found.get(index)
            if spans is None:
                found[index] = [(start, end)]
            else:
                spans.append((start, end))

        self._scan(data, on_match)
        if len(data) != len(text):  # multi-byte characters: byte offsets -> character offsets
            found = _to_characters(data, found)
        return found

    def _scan(self, data: bytes, on_match: Any) -> None:
        import hyperscan

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        self._db.scan(data, match_event_handler=on_match, scratch=scratch)


def _to_characters(data: bytes, found: Triggered) -> Triggered:
    # UTF-8 mode reports offsets on character boundaries; decode between sorted offsets once, O(n).
    offsets = sorted({offset for spans in found.values() for span in spans for offset in span})
    chars: dict[int, int] = {}
    prev_byte = prev_char = 0
    for offset in offsets:
        prev_char += len(data[prev_byte:offset].decode("utf-8"))
        prev_byte = offset
        chars[offset] = prev_char
    return {index: [(chars[start], chars[end]) for start, end in spans] for index, spans in found.items()}


@cache
def default_engine() -> Engine:
    """Hyperscan when installed (it is pinned with the privacy group), else Python's ``re``."""
    try:
        return HyperscanEngine()
    except ImportError:
        return ReEngine()

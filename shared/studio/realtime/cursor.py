"""Exact resume for a thread's event stream.

Positions are ``(seq, k)``: ``k`` is 0 for ``message.created`` of a streaming reply, ``n`` for
its n-th delta, FINAL for the end (a user message is born final). Replies stream while other
messages arrive, so "the last event id" alone cannot say what a client has: the cursor is
``floor`` (every message up to it is complete on the client) plus the exact position of each
message above it, e.g. ``5~6.3,7.f``: all of 1..5, message 6 up to delta 3, message 7 whole.
In the common case, nothing streaming, it is just the last seq: ``7``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from studio.kernel import errors

FINAL = 10**9
MAX_CURSOR_CHARS = 2048  # a floor and up to 100 open messages fit with room to spare
# At most twelve digits: far beyond any thread, far below what the store holds (2^63).
# ASCII digits only: "\d" and str.isdigit() also match "²" or "٣", which int() then refuses or reads.
_FLOOR = re.compile(r"[0-9]{1,12}")
_PART = re.compile(r"([0-9]{1,12})\.([0-9]{1,9}|f)")


def _invalid(raw: str) -> errors.StudioError:
    return errors.StudioError(errors.BAD_REQUEST, f"invalid resume cursor {raw[:40]!r}")


def parse_seq(raw: str) -> int:
    """A seq given alone (``?since=``, ``?seq=``): ASCII digits, at most twelve of them."""
    text = raw.strip()
    if not _FLOOR.fullmatch(text):
        raise errors.StudioError(errors.BAD_REQUEST, "a seq (since, seq) is a whole number of at most 12 digits")
    return int(text)


@dataclass
class Cursor:
    floor: int = 0
    states: dict[int, int] = field(default_factory=dict)

    def seen(self, seq: int, k: int) -> bool:
        if seq in self.states:
            return k <= self.states[seq]
        return seq <= self.floor

    def advance(self, seq: int, k: int) -> bool:
        """Move past (seq, k); False when the client already had it (nothing moves)."""
        states = self.states
        if seq in states:
            if k <= states[seq]:
                return False
        elif seq <= self.floor:
            return False
        if k == FINAL and seq == self.floor + 1 and not states:  # the common case: the next whole message
            self.floor = seq
            return True
        states[seq] = k
        while states.get(self.floor + 1) == FINAL:
            self.floor += 1
            del states[self.floor]
        return True

    def position_of(self, seq: int) -> int:
        """The last k the client has of message ``seq`` (-1: nothing)."""
        if seq in self.states:
            return self.states[seq]
        return FINAL if seq <= self.floor else -1

    def __str__(self) -> str:
        if not self.states:
            return str(self.floor)
        parts = ",".join(f"{s}.{'f' if k == FINAL else k}" for s, k in sorted(self.states.items()))
        return f"{self.floor}~{parts}"

    @classmethod
    def parse(cls, raw: str) -> Cursor:
        if len(raw) > MAX_CURSOR_CHARS:
            raise _invalid(raw)
        text = raw.strip()
        floor_text, _, rest = text.partition("~")
        if not _FLOOR.fullmatch(floor_text):
            raise _invalid(raw)
        states: dict[int, int] = {}
        for part in filter(None, rest.split(",")) if rest else ():
            m = _PART.fullmatch(part)
            if m is None or len(states) > 100:
                raise _invalid(raw)
            seq = int(m.group(1))
            if seq > int(floor_text):
                states[seq] = FINAL if m.group(2) == "f" else int(m.group(2))
        return cls(int(floor_text), states)

"""WCAG success criteria and the EN 301 549 clauses that take them over (web content: clause 9).

EN 301 549 V3.2.1 (2021-03), the harmonised standard the European Accessibility Act presumes
conformity with, copies every WCAG 2.1 level A and AA success criterion as clause ``9.<sc>``
(1.1.1 -> 9.1.1.1). WCAG 2.2's new criteria (2.4.11, 2.5.7, 2.5.8, 3.2.6, 3.3.7, 3.3.8) have no
clause in V3.2.1: they map to none and are reported as WCAG-only. axe-core also tags some rules
``EN-301-549`` and ``EN-9.x.x.x`` itself; ``clauses_for`` keeps both and says where each came from.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    sc: str  # "1.4.10"
    name: str
    level: str  # A | AA
    in_en301549: bool = True  # False for WCAG 2.2 additions

    @property
    def clause(self) -> str | None:
        return f"9.{self.sc}" if self.in_en301549 else None


_ROWS = """
1.1.1|Non-text Content|A
1.2.1|Audio-only and Video-only (Prerecorded)|A
1.2.2|Captions (Prerecorded)|A
1.2.3|Audio Description or Media Alternative (Prerecorded)|A
1.2.4|Captions (Live)|AA
1.2.5|Audio Description (Prerecorded)|AA
1.3.1|Info and Relationships|A
1.3.2|Meaningful Sequence|A
1.3.3|Sensory Characteristics|A
1.3.4|Orientation|AA
1.3.5|Identify Input Purpose|AA
1.4.1|Use of Color|A
1.4.2|Audio Control|A
1.4.3|Contrast (Minimum)|AA
1.4.4|Resize Text|AA
1.4.5|Images of Text|AA
1.4.10|Reflow|AA
1.4.11|Non-text Contrast|AA
1.4.12|Text Spacing|AA
1.4.13|Content on Hover or Focus|AA
2.1.1|Keyboard|A
2.1.2|No Keyboard Trap|A
2.1.4|Character Key Shortcuts|A
2.2.1|Timing Adjustable|A
2.2.2|Pause, Stop, Hide|A
2.3.1|Three Flashes or Below Threshold|A
2.4.1|Bypass Blocks|A
2.4.2|Page Titled|A
2.4.3|Focus Order|A
2.4.4|Link Purpose (In Context)|A
2.4.5|Multiple Ways|AA
2.4.6|Headings and Labels|AA
2.4.7|Focus Visible|AA
2.5.1|Pointer Gestures|A
2.5.2|Pointer Cancellation|A
2.5.3|Label in Name|A
2.5.4|Motion Actuation|A
3.1.1|Language of Page|A
3.1.2|Language of Parts|AA
3.2.1|On Focus|A
3.2.2|On Input|A
3.2.3|Consistent Navigation|AA
3.2.4|Consistent Identification|AA
3.3.1|Error Identification|A
3.3.2|Labels or Instructions|A
3.3.3|Error Suggestion|AA
3.3.4|Error Prevention (Legal, Financial, Data)|AA
4.1.1|Parsing|A
4.1.2|Name, Role, Value|A
4.1.3|Status Messages|AA
2.4.11|Focus Not Obscured (Minimum)|AA|2.2
2.5.7|Dragging Movements|AA|2.2
2.5.8|Target Size (Minimum)|AA|2.2
3.2.6|Consistent Help|A|2.2
3.3.7|Redundant Entry|A|2.2
3.3.8|Accessible Authentication (Minimum)|AA|2.2
"""


def _table() -> dict[str, Criterion]:
    out: dict[str, Criterion] = {}
    for line in _ROWS.strip().splitlines():
        sc, name, level, *since = line.split("|")
        out[sc] = Criterion(sc, name, level, in_en301549=not since)
    return out


CRITERIA: dict[str, Criterion] = _table()
# The clause-9 report lists every clause of the table, in the standard's order.
CLAUSES: tuple[str, ...] = tuple(c.clause for c in sorted(CRITERIA.values(), key=lambda c: tuple(
    int(p) for p in c.sc.split("."))) if c.clause)

_WCAG_TAG = re.compile(r"^wcag(\d)(\d)(\d{1,2})$")  # axe: "wcag111", "wcag1410"
_EN_TAG = re.compile(r"^EN-(9(?:\.\d+){3})$")  # axe: "EN-9.1.1.1"


def criteria_from_tags(tags: Iterable[str]) -> list[str]:
    """WCAG SCs named by axe's rule tags ("wcag143" -> "1.4.3"), known ones only, in order."""
    found: list[str] = []
    for tag in tags:
        m = _WCAG_TAG.match(tag)
        if m and (sc := f"{m.group(1)}.{m.group(2)}.{m.group(3)}") in CRITERIA and sc not in found:
            found.append(sc)
    return found


def clauses_for(scs: Iterable[str], tags: Iterable[str] = ()) -> list[dict[str, str]]:
    """EN 301 549 clauses for ``scs`` from our table, plus those axe tags itself (source says which)."""
    out: dict[str, str] = {}
    for sc in scs:
        criterion = CRITERIA.get(sc)
        if criterion is not None and criterion.clause:
            out[criterion.clause] = "table"
    for tag in tags:
        m = _EN_TAG.match(tag)
        if m:
            out[m.group(1)] = "axe+table" if out.get(m.group(1)) == "table" else "axe"
    return [{"clause": clause, "source": source} for clause, source in out.items()]


def sc_of_clause(clause: str) -> str:
    return clause.removeprefix("9.")

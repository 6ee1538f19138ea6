"""PII and secrets: find them, and redact them. The engine under the policy filter (``policy_filter``)
and the DatasetEvent scrubber.

Two stages (decision 0040). A scanner finds where an entity may be: every detector's triggers in one
pass (``scanning``: Hyperscan, or Python ``re``). Each detector then confirms only inside the windows
around its triggers (``catalog``, ``detectors``, ``national_ids``): exact boundaries, then check digits
by well-kept libraries (``python-stdnum``, ``phonenumbers``, ``ipaddress``). Text with no trigger costs
one scan and nothing else.

Overlaps: overlapping confirmed spans are merged into one finding covering their union (so no detected
character is left unredacted), named by the detector first in ``catalog.DETECTORS``. A run of digits
that is a valid card number or IBAN is thus never reported as a PHONE.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from studio.privacy.catalog import DETECTORS
from studio.privacy.detectors import ENTROPY_MIN_LENGTH, ENTROPY_THRESHOLD, PHONE_REGIONS, shannon_entropy
from studio.privacy.entities import Finding, PiiType, Span
from studio.privacy.scanning import Engine, default_engine

__all__ = ["ENTROPY_MIN_LENGTH", "ENTROPY_THRESHOLD", "PHONE_REGIONS", "Finding", "PiiType", "ScrubResult",
           "find_pii", "redact", "scrub_text", "scrub_value", "shannon_entropy"]

SNAP = 64  # how far a window's edge may move to reach whitespace
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class ScrubResult:
    text: str
    findings: tuple[Finding, ...]


def _windows(text: str, spans: list[Span], before: int, after: int) -> list[Span]:
    """Trigger spans widened by the margins, snapped out to whitespace, merged where they overlap."""
    windows: list[Span] = []
    size = len(text)
    lo = hi = -(1 << 62)  # no window open yet
    for start, end in sorted(spans):
        if start - before <= hi:  # overlaps the open window: extend it
            if end + after > hi:
                hi = end + after
            continue
        if hi >= 0:
            windows.append((_snap_start(text, lo), _snap_end(text, hi)))
        lo, hi = (start - before if start > before else 0), end + after
    if hi >= 0:
        windows.append((_snap_start(text, lo), _snap_end(text, hi if hi < size else size)))
    return windows


def _snap_start(text: str, lo: int) -> int:
    if lo == 0:
        return 0
    floor = max(0, lo - SNAP)
    cut = max(text.rfind(" ", floor, lo), text.rfind("\n", floor, lo), text.rfind("\t", floor, lo))
    return cut + 1 if cut >= 0 else floor


def _snap_end(text: str, hi: int) -> int:
    if hi >= len(text):
        return len(text)
    found = _SPACE.search(text, hi, hi + SNAP)
    return found.start() if found is not None else min(len(text), hi + SNAP)


def find_pii(text: str, engine: Engine | None = None) -> list[Finding]:
    """All PII in ``text``, sorted by start and non-overlapping; spans index the original text."""
    if not text:
        return []
    triggered = (engine or default_engine()).triggers(text)
    if not triggered:
        return []
    candidates: list[tuple[int, int, int]] = []
    for precedence, spans in triggered.items():
        det = DETECTORS[precedence]
        for lo, hi in _windows(text, spans, det.before, det.after):
            candidates.extend((start, end, precedence) for start, end in det.confirm(text, lo, hi) if end > start)
    return _resolve(candidates)


def _resolve(candidates: Iterable[tuple[int, int, int]]) -> list[Finding]:
    """Merge overlapping (start, end, precedence) candidates; the most specific, then longest, names it."""
    findings: list[Finding] = []
    cluster_start = cluster_end = -1
    best: tuple[int, int] = (0, 0)  # (precedence, -length) of the cluster's winner
    for start, end, precedence in sorted(set(candidates)):
        if start >= cluster_end:
            if cluster_end >= 0:
                findings.append(Finding(DETECTORS[best[0]].type, cluster_start, cluster_end))
            cluster_start, cluster_end, best = start, end, (precedence, start - end)
        else:
            cluster_end = max(cluster_end, end)
            best = min(best, (precedence, start - end))
    if cluster_end >= 0:
        findings.append(Finding(DETECTORS[best[0]].type, cluster_start, cluster_end))
    return findings


def scrub_text(text: str) -> ScrubResult:
    """Replace each finding with ``[REDACTED:<TYPE>]``; the findings keep their original-text spans."""
    findings = find_pii(text)
    return ScrubResult(text=redact(text, findings), findings=tuple(findings))


def redact(text: str, findings: Iterable[Finding]) -> str:
    """``text`` with each of ``findings`` (sorted, non-overlapping) replaced by ``[REDACTED:<TYPE>]``."""
    parts: list[str] = []
    pos = 0
    for finding in findings:
        parts.append(text[pos : finding.start])
        parts.append(f"[REDACTED:{finding.type}]")
        pos = finding.end
    parts.append(text[pos:])
    return "".join(parts)


def scrub_value(value: object) -> tuple[object, list[PiiType]]:
    """Scrub every str inside dicts/lists/tuples (dict keys are left alone); returns a new structure and
    the types found, one entry per finding. Other values (numbers, None, bytes, sets...) pass unchanged."""
    found: list[PiiType] = []
    return _scrub(value, found), found


def _scrub(value: object, found: list[PiiType]) -> object:
    if isinstance(value, str):
        result = scrub_text(value)
        if not result.findings:
            return value  # unchanged, and keeps str subclasses such as StrEnum members intact
        found.extend(finding.type for finding in result.findings)
        return result.text
    if isinstance(value, dict):
        return {key: _scrub(item, found) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, found) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub(item, found) for item in value)
    return value

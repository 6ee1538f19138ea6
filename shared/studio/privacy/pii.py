"""PII filter: find and redact e-mails, phone numbers, payment cards, IBANs and secrets.

Used to scrub DatasetEvents (and later chat messages, uploads and tool I/O) before they are stored.
Check digits are left to well-kept libraries: ``phonenumbers`` for phone numbers, ``python-stdnum``
for Luhn (cards) and ISO 13616 mod-97 plus per-country format (IBANs).

Overlaps: every detector proposes spans; overlapping spans are merged into one finding covering their
union (so no detected character is left unredacted) and typed by the most specific detector involved,
in this order: known secret formats > IBAN > CARD > EMAIL > high-entropy token > PHONE. A run of digits
that is a valid card number or IBAN is thus never reported as a PHONE.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from stdnum import iban, luhn

# Default regions for numbers written in national format; "+<country code>" numbers are found whatever
# the region. Each extra region makes more bare digit runs "valid", so keep this list short.
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR")
ENTROPY_THRESHOLD = 4.0  # bits per character
ENTROPY_MIN_LENGTH = 32

Span = tuple[int, int]


class PiiType(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    IBAN = "IBAN"
    SECRET = "SECRET"


@dataclass(frozen=True)
class Finding:
    type: PiiType
    start: int  # span in the original text
    end: int


@dataclass(frozen=True)
class ScrubResult:
    text: str
    findings: tuple[Finding, ...]


# --- E-mail -------------------------------------------------------------------------------------------
# local@domain.tld with at least one dot in the domain and an alphabetic TLD of 2+ letters, so neither
# "user@localhost" nor an npm-style "lodash@4.17.21" counts.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])")


def _email_spans(text: str) -> list[Span]:
    return [m.span() for m in _EMAIL.finditer(text)] if "@" in text else []


# --- Cards and IBANs: runs of chunks separated by single separators --------------------------------------
# A candidate starts at a chunk boundary and ends at one; the longest valid candidate from the leftmost
# start wins, so "4111 1111 1111 1111 123" (card then CVV) still yields the 16-digit card.
# Not inside a word, a "+49..." number or the fraction of a decimal ("0.4111..."); "," still separates,
# as in CSV rows.
_CARD_START = re.compile(r"(?<![\w+])(?<![0-9]\.)[0-9]")
_CARD_CHUNK = re.compile(r"[0-9]+(?!\w)(?!\.[0-9])")
_IBAN_START = re.compile(r"(?<!\w)[A-Za-z]{2}[0-9]{2}")
_IBAN_CHUNK = re.compile(r"[A-Za-z0-9]+(?!\w)")


def _chunked_spans(
    text: str,
    start_re: re.Pattern[str],
    chunk_re: re.Pattern[str],
    separators: str,
    min_len: int,
    max_len: int,
    is_valid: Callable[[str], bool],
) -> list[Span]:
    spans: list[Span] = []
    taken_until = 0
    for start_match in start_re.finditer(text):
        begin = start_match.start()
        if begin < taken_until:
            continue
        compact, pos, best = "", begin, 0
        while (chunk := chunk_re.match(text, pos)) is not None:
            compact += chunk.group()
            if len(compact) > max_len:
                break
            if len(compact) >= min_len and is_valid(compact):
                best = chunk.end()
            pos = chunk.end() + 1
            if chunk.end() >= len(text) or text[chunk.end()] not in separators:
                break
        if best:
            spans.append((begin, best))
            taken_until = best
    return spans


def _card_spans(text: str) -> list[Span]:
    # 13-19 digits, single spaces or dashes between groups, valid by Luhn (stdnum.luhn).
    return _chunked_spans(text, _CARD_START, _CARD_CHUNK, " -", 13, 19, luhn.is_valid)


def _iban_spans(text: str) -> list[Span]:
    # Country code, check digits, BBAN; 15 (Norway) to 34 characters; mod-97 and country format by stdnum.
    return _chunked_spans(text, _IBAN_START, _IBAN_CHUNK, " ", 15, 34, iban.is_valid)


# --- Phone numbers --------------------------------------------------------------------------------------
def _phone_spans(text: str) -> list[Span]:
    if not any(ch.isdigit() for ch in text):
        return []
    spans: list[Span] = []
    for region in PHONE_REGIONS:  # overlapping matches from several regions are merged later
        matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
        spans.extend((match.start, match.end) for match in matcher)
    return spans


# --- Secrets --------------------------------------------------------------------------------------------
_KNOWN_SECRETS = re.compile(
    "|".join(
        (
            r"(?<![\w-])sk-[A-Za-z0-9_-]{20,}",  # OpenAI-style (sk-..., sk-proj-...)
            r"(?<![\w-])[sr]k_(?:live|test)_[A-Za-z0-9]{20,}",  # Stripe secret / restricted keys
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])",  # AWS access key id
            r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])",  # Google API key
            r"(?<!\w)gh[pousr]_[A-Za-z0-9]{36,}",  # GitHub tokens
            r"(?<!\w)github_pat_[A-Za-z0-9_]{22,}",  # GitHub fine-grained token
            r"(?<![\w-])xox[abpr]-[A-Za-z0-9-]{10,}",  # Slack tokens
            # PEM private key (bodies are a few KB; the bound keeps many BEGINs without END linear). A block
            # with no END (truncated) is redacted up to the end of its body: the following whole lines,
            # real or JSON-escaped ("\\n"), of base64 or "Proc-Type: ..." headers.
            r"-----BEGIN (?P<pem>(?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:[\s\S]{0,16384}?-----END (?P=pem)PRIVATE KEY-----"
            r"|(?:(?:\r?\n|\\(?:r\\)?n)+(?:[A-Za-z-]+: [^\r\n\\]*|[A-Za-z0-9+/=]+(?![^\r\n\\])))*)",
            r"(?<![\w-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",  # JWT (signature may be empty)
        )
    )
)
_BEARER = re.compile(r"(?i:\bbearer)\s+([A-Za-z0-9._~+/-]{20,}=*)")  # only the token is redacted
_TOKEN_CHARS = r"A-Za-z0-9_\-+/="
_TOKEN = re.compile(rf"(?<![{_TOKEN_CHARS}])[{_TOKEN_CHARS}]{{{ENTROPY_MIN_LENGTH},}}(?![{_TOKEN_CHARS}])")
# "=" is base64 padding and only ends a token; "NAME=value" is judged as two tokens, so the name survives.
_PADDED_PIECE = re.compile(r"[^=]+=*")
# Hex-only tokens, dashes allowed, are identifiers (digests, git SHAs, UUIDs), not secrets. Hex tops out
# at exactly 4.0 bits/char, and only with a perfectly even spread; random UUIDs can slightly exceed 4.0
# through their dashes. Excluding them keeps the entropy rule from flagging them by chance.
_HEX_ID = re.compile(r"[0-9A-Fa-f-]+")
# Lower-case words joined by "-", "_" or "/" (slugs, snake_case, URL paths such as
# "/api/v1/projects/12345/events") reach 4.0 bits/char too. Random base64 is mixed-case, so a token
# without upper-case letters that has such separators is judged segment by segment, like separate words.
_WORD_SEPARATORS = re.compile(r"[-_/]")
_SEGMENT = re.compile(r"[^-_/]+")


def shannon_entropy(token: str) -> float:
    """Shannon entropy in bits per character of the token's own character distribution."""
    if not token:
        return 0.0
    n = len(token)
    return -sum(count / n * math.log2(count / n) for count in Counter(token).values())


def _known_secret_spans(text: str) -> list[Span]:
    spans = [m.span() for m in _KNOWN_SECRETS.finditer(text)]
    spans.extend(m.span(1) for m in _BEARER.finditer(text))
    return spans


def _looks_random(token: str) -> bool:
    return (
        len(token) >= ENTROPY_MIN_LENGTH
        and not _HEX_ID.fullmatch(token)
        and any(ch.isalpha() for ch in token)
        and any(ch.isdigit() for ch in token)
        and shannon_entropy(token) >= ENTROPY_THRESHOLD
    )


def _entropy_secret_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for match in _TOKEN.finditer(text):
        for piece in _PADDED_PIECE.finditer(match.group()):
            offset, token = match.start() + piece.start(), piece.group()
            if not any(ch.isupper() for ch in token) and _WORD_SEPARATORS.search(token):
                parts = [(offset + seg.start(), seg.group()) for seg in _SEGMENT.finditer(token)]
            else:
                parts = [(offset, token)]
            spans.extend((start, start + len(part)) for start, part in parts if _looks_random(part))
    return spans


# --- Resolution and redaction ---------------------------------------------------------------------------
# Most specific first; the index is the precedence used when spans overlap.
_DETECTORS: tuple[tuple[PiiType, Callable[[str], list[Span]]], ...] = (
    (PiiType.SECRET, _known_secret_spans),
    (PiiType.IBAN, _iban_spans),
    (PiiType.CARD, _card_spans),
    (PiiType.EMAIL, _email_spans),
    (PiiType.SECRET, _entropy_secret_spans),
    (PiiType.PHONE, _phone_spans),
)


def _resolve(candidates: Iterable[tuple[int, int, int]]) -> list[Finding]:
    """Merge overlapping (start, end, precedence) candidates; the most specific, then longest, names it."""
    findings: list[Finding] = []
    cluster_start = cluster_end = -1
    best: tuple[int, int] = (0, 0)  # (precedence, -length) of the cluster's winner
    for start, end, precedence in sorted(candidates):
        if start >= cluster_end:
            if cluster_end >= 0:
                findings.append(Finding(_DETECTORS[best[0]][0], cluster_start, cluster_end))
            cluster_start, cluster_end, best = start, end, (precedence, start - end)
        else:
            cluster_end = max(cluster_end, end)
            best = min(best, (precedence, start - end))
    if cluster_end >= 0:
        findings.append(Finding(_DETECTORS[best[0]][0], cluster_start, cluster_end))
    return findings


def find_pii(text: str) -> list[Finding]:
    """All PII in ``text``, sorted by start and non-overlapping; spans index the original text."""
    candidates = (
        (start, end, precedence)
        for precedence, (_, detect) in enumerate(_DETECTORS)
        for start, end in detect(text)
        if end > start
    )
    return _resolve(candidates)


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

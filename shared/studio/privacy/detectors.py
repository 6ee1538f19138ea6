"""Confirmation: the exact rules for each entity type, run only inside the windows the scanner found.

Every detector here takes ``(text, lo, hi)`` and returns spans of the original text within that window.
Patterns are applied with ``pattern.finditer(text, lo, hi)``, so a look-behind still sees the character
before the window (no match starts mid-word); windows end on whitespace (``pii._windows``), so a
look-ahead at ``hi`` is the real end of a token. Check digits are left to well-kept libraries:
``python-stdnum`` (Luhn, IBAN mod-97 and country formats), ``phonenumbers`` (phone validity), and the
standard library's ``ipaddress``.
"""
from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable

from studio.privacy.entities import Span

# Default regions for numbers written in national format; "+<country code>" numbers are found whatever
# the region. Each extra region makes more bare digit runs "valid", so keep this list short.
PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR")
ENTROPY_THRESHOLD = 4.0  # bits per character
ENTROPY_MIN_LENGTH = 32

# --- E-mail -------------------------------------------------------------------------------------------
# local@domain.tld with at least one dot in the domain and an alphabetic TLD of 2+ letters, so neither
# "user@localhost" nor an npm-style "lodash@4.17.21" counts.
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])")


def email_spans(text: str, lo: int, hi: int) -> list[Span]:
    return [m.span() for m in _EMAIL.finditer(text, lo, hi)]


# --- Cards and IBANs: runs of chunks separated by single separators --------------------------------------
# A candidate starts at a chunk boundary and ends at one; the longest valid candidate from the leftmost
# start wins, so "4111 1111 1111 1111 123" (card then CVV) still yields the 16-digit card.
# Not inside a word, a "+49..." number or the fraction of a decimal ("0.4111..."); "," still separates,
# as in CSV rows.
_CARD_START = re.compile(r"(?<![\w+])(?<![0-9]\.)[0-9]")
_CARD_CHUNK = re.compile(r"[0-9]+(?!\w)(?!\.[0-9])")
_IBAN_START = re.compile(r"(?<!\w)[A-Za-z]{2}[0-9]{2}")
_IBAN_CHUNK = re.compile(r"[A-Za-z0-9]+(?!\w)")


def _chunked_spans(text: str, lo: int, hi: int, start_re: re.Pattern[str], chunk_re: re.Pattern[str],
                   separators: str, min_len: int, max_len: int, max_chunks: int,
                   is_valid: Callable[[str], bool]) -> list[Span]:
    # max_chunks bounds the work per start: people group a card in at most 8 parts and an IBAN in at most
    # 10 (fours), so "1 1 1 1 ..." costs a few regex steps per digit, not a checksum per prefix.
    spans: list[Span] = []
    taken_until = 0
    for start_match in start_re.finditer(text, lo, hi):
        begin = start_match.start()
        if begin < taken_until:
            continue
        compact, pos, best, chunks = "", begin, 0, 0
        while (chunk := chunk_re.match(text, pos, hi)) is not None:
            compact += chunk.group()
            chunks += 1
            if len(compact) > max_len or chunks > max_chunks:
                break
            if len(compact) >= min_len and is_valid(compact):
                best = chunk.end()
            pos = chunk.end() + 1
            if chunk.end() >= hi or text[chunk.end()] not in separators:
                break
        if best:
            spans.append((begin, best))
            taken_until = best
    return spans


def card_spans(text: str, lo: int, hi: int) -> list[Span]:
    from stdnum import luhn

    # 13-19 digits, single spaces or dashes between groups, valid by Luhn.
    return _chunked_spans(text, lo, hi, _CARD_START, _CARD_CHUNK, " -", 13, 19, 8, luhn.is_valid)


def iban_spans(text: str, lo: int, hi: int) -> list[Span]:
    from stdnum import iban

    # Country code, check digits, BBAN; 15 (Norway) to 34 characters; mod-97 and country format. The bare
    # mod-97 first: it is a fraction of stdnum's full check, which then only sees one prefix in 97.
    return _chunked_spans(text, lo, hi, _IBAN_START, _IBAN_CHUNK, " ", 15, 34, 10,
                          lambda compact: _mod97_is_one(compact) and bool(iban.is_valid(compact)))


def _mod97_is_one(compact: str) -> bool:
    rearranged = (compact[4:] + compact[:4]).upper()
    if not rearranged.isascii() or not rearranged.isalnum():
        return False
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# --- Phone numbers --------------------------------------------------------------------------------------
# Candidates are runs of digits with the separators people write ("+49 30 1234567", "(415) 555-2671",
# "06.12.34.56.78"); ``phonenumbers`` decides validity. Parsing costs ~0.1 ms, so a candidate is only
# parsed where its shape allows a number: "+" or "00" with 8-15 digits (any country), a trunk "0" and
# 7-13 digits (national format in GB, DE, FR), or 10 digits not starting 0/1 (US, NANP).
_PHONE = re.compile(r"(?<![\w+.,/-])(?:\+|\(\+?)?[0-9](?:[ ().-]{0,2}[0-9]){5,17}(?![\w]|[.,/-][0-9])")
_NOT_DIGIT = re.compile(r"[^0-9]")
_NATIONAL_REGIONS = tuple(r for r in PHONE_REGIONS if r != "US")


def _valid_phone(candidate: str) -> bool:
    import phonenumbers

    digits = _NOT_DIGIT.sub("", candidate)
    if candidate.lstrip("(").startswith("+") or digits.startswith("00"):
        regions: tuple[str | None, ...] = (None,) if 8 <= len(digits) <= 15 else ()
        if digits.startswith("00"):
            candidate = "+" + digits[2:]
    elif digits.startswith("0"):
        regions = _NATIONAL_REGIONS if 7 <= len(digits) <= 13 else ()
    else:
        regions = ("US",) if "US" in PHONE_REGIONS and len(digits) == 10 and digits[0] not in "01" else ()
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def phone_spans(text: str, lo: int, hi: int) -> list[Span]:
    spans: list[Span] = []
    for match in _PHONE.finditer(text, lo, hi):
        start, candidate = match.start(), match.group()
        if _valid_phone(candidate):
            spans.append(match.span())
        elif " " in candidate:  # "+49 30 1234567 2026": a number followed by another figure
            head = candidate[: candidate.rindex(" ")].rstrip(" (.-")
            if _valid_phone(head):
                spans.append((start, start + len(head)))
    return spans


# --- IP addresses ---------------------------------------------------------------------------------------
# Dotted quads not inside a longer dotted run ("1.2.3.4.5" is a version, not an address), and IPv6 with at
# least two colons; both confirmed by ``ipaddress`` (so "10:30:00", a time, is not an address).
_IPV4 = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?!\w|\.[0-9])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return candidate != "::"


def ip_spans(text: str, lo: int, hi: int) -> list[Span]:
    spans = [m.span() for m in _IPV4.finditer(text, lo, hi) if _is_ip(m.group())]
    spans.extend(m.span() for m in _IPV6.finditer(text, lo, hi)
                 if sum(ch.isalnum() for ch in m.group()) >= 2 and _is_ip(m.group()))
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
            r"(?<![\w-])eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",  # JWT (signature may be empty)
        )
    )
)
# PEM private key (bodies are a few KB; the bound keeps many BEGINs without END linear). A block with no
# END (truncated) is redacted up to the end of its body: the following whole lines, real or JSON-escaped
# ("\\n"), of base64 or "Proc-Type: ..." headers.
PEM_MAX_BODY = 16384
_PEM = re.compile(
    r"-----BEGIN (?P<pem>(?:[A-Z0-9]+ )*)PRIVATE KEY-----(?:[\s\S]{0," + str(PEM_MAX_BODY) + r"}?-----END (?P=pem)PRIVATE KEY-----"
    r"|(?:(?:\r?\n|\\(?:r\\)?n)+(?:[A-Za-z-]+: [^\r\n\\]*|[A-Za-z0-9+/=]+(?![^\r\n\\])))*)"
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


def known_secret_spans(text: str, lo: int, hi: int) -> list[Span]:
    spans = [m.span() for m in _KNOWN_SECRETS.finditer(text, lo, hi)]
    spans.extend(m.span(1) for m in _BEARER.finditer(text, lo, hi))
    return spans


def pem_spans(text: str, lo: int, hi: int) -> list[Span]:
    return [m.span() for m in _PEM.finditer(text, lo, hi)]


def _looks_random(token: str) -> bool:
    return (
        len(token) >= ENTROPY_MIN_LENGTH
        and not _HEX_ID.fullmatch(token)
        and any(ch.isalpha() for ch in token)
        and any(ch.isdigit() for ch in token)
        and shannon_entropy(token) >= ENTROPY_THRESHOLD
    )


def entropy_secret_spans(text: str, lo: int, hi: int) -> list[Span]:
    spans: list[Span] = []
    for match in _TOKEN.finditer(text, lo, hi):
        for piece in _PADDED_PIECE.finditer(match.group()):
            offset, token = match.start() + piece.start(), piece.group()
            if not any(ch.isupper() for ch in token) and _WORD_SEPARATORS.search(token):
                parts = [(offset + seg.start(), seg.group()) for seg in _SEGMENT.finditer(token)]
            else:
                parts = [(offset, token)]
            spans.extend((start, start + len(part)) for start, part in parts if _looks_random(part))
    return spans

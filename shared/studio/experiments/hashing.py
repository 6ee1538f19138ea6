"""GrowthBook's bucketing, bit for bit: FNV-1a over UTF-16 code units, hash v1/v2, bucket ranges,
namespaces, and how an attribute value becomes the string that is hashed.

Written here rather than imported from the ``growthbook`` package: these are a few pure lines on
the hot path of every evaluation, and importing the package pulls aiohttp and requests (~0.2 s of
cold start, decision 0059). tests/unit/test_experiments_hashing.py holds them to the package on
many thousands of generated inputs, unicode ids included.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193
_MASK = 0xFFFFFFFF

Range = tuple[float, float]


def fnv1a32(text: str) -> int:
    """FNV-1a 32 over the string's UTF-16 code units, as the JS SDK's ``charCodeAt`` loop sees it."""
    h = _FNV_OFFSET
    if text.isascii():
        units: Sequence[int] = text.encode()
    else:
        raw = text.encode("utf-16-le", "surrogatepass")
        units = [raw[i] | (raw[i + 1] << 8) for i in range(0, len(raw), 2)]
    for unit in units:
        h = ((h ^ unit) * _FNV_PRIME) & _MASK
    return h


def bucket(seed: str, value: str, version: int = 2) -> float | None:
    """The user's position in [0, 1): v2 hashes twice (the default), v1 is the legacy hash."""
    if version == 2:
        return (fnv1a32(str(fnv1a32(seed + value))) % 10_000) / 10_000
    if version == 1:
        return (fnv1a32(value + seed) % 1_000) / 1_000
    return None


def equal_weights(n: int) -> list[float]:
    return [1 / n] * n if n > 0 else []


def usable_weights(n: int, weights: Sequence[float] | None) -> list[float]:
    """The weights bucketing uses: as given when one finite, non-negative weight per variation sums
    to 1 (within 0.01, GrowthBook's tolerance), equal weights otherwise."""
    if weights is None or len(weights) != n:
        return equal_weights(n)
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) and w >= 0
               for w in weights):
        return equal_weights(n)
    return list(weights) if 0.99 <= sum(weights) <= 1.01 else equal_weights(n)


def bucket_ranges(n: int, coverage: float = 1.0, weights: Sequence[float] | None = None) -> list[Range]:
    """Each variation's slice of [0, 1): its weight, shrunk to ``coverage`` from the slice's start."""
    coverage = min(max(coverage, 0.0), 1.0)
    ranges: list[Range] = []
    cumulative = 0.0
    for w in usable_weights(n, weights):
        start = cumulative
        cumulative += w
        ranges.append((start, start + coverage * w))
    return ranges


def choose_variation(n: float, ranges: Sequence[Range]) -> int:
    """The variation whose range holds ``n``; -1 when it falls in none (outside the coverage)."""
    for i, (start, end) in enumerate(ranges):
        if start <= n < end:
            return i
    return -1


def in_namespace(value: str, namespace_id: str, start: float, end: float) -> bool:
    """Mutual exclusion: experiments sharing a namespace id take disjoint [start, end) slices of it."""
    n = bucket("__" + namespace_id, value, 1)
    return n is not None and start <= n < end


def is_hashable(value: object) -> bool:
    """Only a non-empty string or a finite, non-zero number identifies a subject (never a bool)."""
    if isinstance(value, str):
        return value != ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return value != 0 and math.isfinite(value)
    except OverflowError:  # an int beyond a double is Infinity in JS
        return False


def hash_string(value: object) -> str:
    """The text hashed for an attribute value: itself for a string, JS ``String(n)`` for a number,
    "" for anything that cannot identify a subject."""
    if not is_hashable(value):
        return ""
    if isinstance(value, str):
        return value
    assert isinstance(value, (int, float))
    return js_number(float(value))


def js_number(x: float) -> str:
    """ECMAScript Number::toString for a finite double: the shortest round-trip digits (what
    ``repr`` finds), laid out in fixed notation for exponents -6..21 and as ``1e+21`` otherwise."""
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number(-x)
    mantissa, _, exponent = repr(x).partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    digits = significant.rstrip("0") or "0"
    k = len(digits)
    point = int(exponent or "0") - len(fraction) + len(significant)  # x = 0.digits * 10**point
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return f"{digits[:point]}.{digits[point:]}"
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{'+' if point > 0 else '-'}{abs(point - 1)}"


def in_rollout(seed: str, value: str, coverage: float, version: int = 2) -> bool:
    """A force rule's percentage rollout: the subject's bucket for ``seed`` falls below ``coverage``
    (half-open, so a coverage of k/10000 takes exactly k buckets); coverage 1 takes everyone."""
    if coverage >= 1:
        return True
    if coverage <= 0 or not value:
        return False
    n = bucket(seed, value, version)
    return n is not None and n < coverage

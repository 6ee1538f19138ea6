"""Chat-like text with planted identifiers, for the policy filter's bench and its precision test.

Deterministic (seeded): sentences of common words, with the noise real chats carry (dates, times, prices,
order numbers, versions, URLs, hashes), and, every few sentences, one planted identifier of a known type
taken from a small table of valid ones. The planted spans are returned, so a run can be scored.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

# Valid examples per entity type (check digits right). Secret-shaped ones are assembled so that secret
# scanners do not mistake this file for a leak; none is a real credential.
PLANTS: dict[str, tuple[str, ...]] = {
    "EMAIL": ("ada@example.com", "grace.hopper+news@navy.example.org", "ops@studio.example.io"),
    "PHONE": ("+49 30 1234567", "+1 202 555 0143", "+33 1 23 45 67 89", "020 7946 0958"),
    "CARD": ("4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005"),
    "IBAN": ("DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"),
    "IP_ADDRESS": ("192.168.10.42", "2001:db8::8a2e:370:7334", "10.0.0.7"),
    "SECRET": ("sk-" + "proj-Ab3dEf6hIj9kLm2nOp5qRs8t", "AKIA" + "IOSFODNN7EXAMPLE",
               "ghp_" + "A1b2C3d4E5" * 3 + "f6G7h8"),
    "DE_IDNR": ("Steuer-ID 36 574 261 809", "IdNr 65929970489"),
    "FR_NIR": ("2 95 10 99 126 111 93", "253072B07300470"),
    "NL_BSN": ("BSN 111222333", "burgerservicenummer 123456782"),
    "BE_NN": ("85.07.30-033.28", "85073003328"),
    "AT_SVNR": ("SVNR 1237 010180",),
    "ES_DNI": ("54362315-K", "X2482300W"),
    "IT_CF": ("RCCMNL83S18D969H",),
    "PL_PESEL": ("PESEL 44051401359", "PESEL 02070803628"),
}
_WORDS = ("the of and to a in is you that it he was for on are as with his they I at be this have from or "
          "one had by word but not what all were we when your can said there use an each which she do how "
          "their if will up other about out many then them these so some her would make like him into time "
          "has look two more write go see number no way could people my than first water been call who oil "
          "its now find long down day did get come made may part render video timeline agent draft scene "
          "colour font layer export preview client meeting tomorrow budget").split()
_NOISE = ("on 2026-01-15", "at 10:30", "costs 19.99 EUR", "order 12345", "v1.4.2", "in 2026", "room 4B",
          "https://example.com/docs/getting-started", "commit 3f786850e387550fdab836ed7e6dc881de23001b",
          "about 3,500 views", "ticket #8812", "page 12 of 40", "build 10.0.19045")


@dataclass(frozen=True)
class Corpus:
    text: str
    planted: list[tuple[str, int, int]]  # entity type, start, end of the identifier itself


def sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(_NOISE))
    return " ".join(words).capitalize() + rng.choice(".?!")


def build(size: int, seed: int = 9, plant_every: int = 10) -> Corpus:
    """About ``size`` characters of chat lines; one identifier planted every ``plant_every`` sentences."""
    rng = random.Random(seed)
    parts: list[str] = []
    planted: list[tuple[str, int, int]] = []
    length = 0
    kinds = sorted(PLANTS)
    n = 0
    while length < size:
        line = sentence(rng)
        n += 1
        if n % plant_every == 0:
            kind = kinds[(n // plant_every) % len(kinds)]
            value = rng.choice(PLANTS[kind])
            label, _, ident = value.partition(" ") if kind in _LABELLED else ("", "", value)
            prefix = f"{line} {label + ' ' if label else 'Here: '}"
            start = length + len(prefix)
            planted.append((kind, start, start + len(ident)))
            line = f"{prefix}{ident} thanks."
        parts.append(line + "\n")
        length += len(line) + 1
    return Corpus("".join(parts), planted)


_LABELLED = {"DE_IDNR", "NL_BSN", "AT_SVNR", "PL_PESEL"}

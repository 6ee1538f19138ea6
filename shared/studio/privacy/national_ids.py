"""EU national identifiers, confirmed by their check digits (``python-stdnum``).

Two kinds, by how much a match says on its own (decision 0040):

* self-evident: a shape few other strings have plus a strong check (FR NIR: 15 digits, mod-97 key;
  BE national number: birth date plus mod-97; ES DNI/NIE: a check letter; IT codice fiscale: letters,
  digits and a check letter). Found wherever they appear.
* weak: a bare run of 9-11 digits with a one-digit check (DE IdNr, NL BSN, AT SVNR, PL PESEL). About one
  random run in ten passes such a check, so order numbers, timestamps and phone numbers would be flagged
  all day. These count only after a naming word ("BSN", "PESEL", "Steuer-ID" ...) with no other figure
  between, as people write them ("mijn BSN is 111222333"); a bare one is not reported.
"""
from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.privacy.entities import PiiType, Span

CONTEXT_BEFORE = 32  # at most this many characters (no digit, no line break) from the naming word to the id
TRIGGER_REACH = CONTEXT_BEFORE + 24  # from a naming word to the end of the id it names

# Boundaries: not inside a word or a longer number ("1.2", "12-3"), so a substring of a longer run
# (a card, an IBAN, a phone number) is never an identifier of its own.
_B = r"(?<![\w.+-])"
_E = r"(?![\w]|[.-][0-9A-Za-z])"


@dataclass(frozen=True)
class NationalId:
    type: PiiType
    shape: str  # the identifier as written (no look-around: a multi-pattern engine runs it)
    validator: str  # python-stdnum module: is_valid(compact) decides
    context: str = ""  # for weak ids, the words that must name it just before it (case-insensitive)

    @property
    def trigger(self) -> str:
        """What the scanner looks for (caseless): the shape, or for a weak id its naming word, which is rare
        in text where digit runs are not (the window after it then holds the id: ``TRIGGER_REACH``)."""
        return self.context or self.shape


def _patterns(shape: str, context: str) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    # the naming word, a whole word, then up to CONTEXT_BEFORE characters without a digit, up to the id
    words = re.compile(rf"(?i)(?<![^\W_])(?:{context})(?![^\W_])[^0-9\n]{{0,{CONTEXT_BEFORE}}}$") if context else None
    return re.compile(f"{_B}(?:{shape}){_E}"), words


_DIGIT_OR_OMOCODE = "[0-9LMNPQRSTUVlmnpqrstuv]"  # codice fiscale digits may be replaced by letters (omocodia)

NATIONAL_IDS: tuple[NationalId, ...] = (
    NationalId(PiiType.IT_CF, f"[A-Za-z]{{6}}{_DIGIT_OR_OMOCODE}{{2}}[A-Za-z]{_DIGIT_OR_OMOCODE}{{2}}[A-Za-z]"
                              f"{_DIGIT_OR_OMOCODE}{{3}}[A-Za-z]", "stdnum.it.codicefiscale"),
    # sex, year, month, department (2A/2B: Corsica), commune, serial, key; written grouped or not
    NationalId(PiiType.FR_NIR, "[1-478] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[ABab]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}",
               "stdnum.fr.nir"),
    NationalId(PiiType.ES_DNI, "[0-9]{8}-?[A-Za-z]|[XYZxyz]-?[0-9]{7}-?[A-Za-z]", "stdnum.es.dni"),
    NationalId(PiiType.BE_NN, "[0-9]{2}\\.?[0-9]{2}\\.?[0-9]{2}[-. ]?[0-9]{3}\\.?[0-9]{2}", "stdnum.be.nn"),
    NationalId(PiiType.DE_IDNR, "[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}", "stdnum.de.idnr",
               "idnr|id-nr|steuer-?id|steuer-?idnr|steuer-?identifikationsnummer|identifikationsnummer|tax id|tin"),
    NationalId(PiiType.PL_PESEL, "[0-9]{11}", "stdnum.pl.pesel", "pesel"),
    NationalId(PiiType.NL_BSN, "[0-9]{4}\\.?[0-9]{2}\\.?[0-9]{3}|[0-9]{3} [0-9]{3} [0-9]{3}", "stdnum.nl.bsn",
               "bsn|burgerservicenummer|sofinummer|sofi-nummer"),
    NationalId(PiiType.AT_SVNR, "[0-9]{4} ?[0-9]{6}", "stdnum.at.vnr",
               "svnr|sv-nr|vsnr|sv-nummer|versicherungsnummer|sozialversicherungsnummer|e-card"),
)


def _validator(module: str) -> Callable[[str], bool]:
    checker: Any = importlib.import_module(module)
    if module == "stdnum.es.dni":  # one type for both: the NIE is the DNI of foreigners (same check letter)
        nie: Any = importlib.import_module("stdnum.es.nie")
        return lambda value: bool(checker.is_valid(value) or nie.is_valid(value))
    return lambda value: bool(checker.is_valid(value))


_VALIDATORS: dict[str, Callable[[str], bool]] = {}


def detector(entry: NationalId) -> Callable[[str, int, int], list[Span]]:
    """The confirmation for one identifier: shape with boundaries, check digits, and for weak ids a word."""
    pattern, words = _patterns(entry.shape, entry.context)
    reach = CONTEXT_BEFORE + max((len(w) for w in entry.context.split("|")), default=0) + 8

    def spans(text: str, lo: int, hi: int) -> list[Span]:
        found: list[Span] = []
        for match in pattern.finditer(text, lo, hi):
            if words is not None and not words.search(text, max(0, match.start() - reach), match.start()):
                continue
            check = _VALIDATORS.get(entry.validator)
            if check is None:
                check = _VALIDATORS[entry.validator] = _validator(entry.validator)
            if check(re.sub(r"[\s.-]", "", match.group())):
                found.append(match.span())
        return found

    return spans

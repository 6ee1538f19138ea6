"""The detector table: for each entity, the triggers a scanner looks for and the confirmation to run.

Order is precedence: where candidates of several detectors overlap, the finding covers their union and
is named by the first detector involved (known secret formats, then the identifiers with the strongest
checks, down to the phone number, which a run of digits most often is by chance).

Triggers are loose, look-around-free regexes (a multi-pattern engine such as Hyperscan runs them all in
one pass over the text); they find where an entity may be, never decide that it is one. ``before`` and
``after`` widen each trigger match into the window its confirmation reads.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from studio.privacy import detectors as d
from studio.privacy.entities import PiiType, Span
from studio.privacy.national_ids import NATIONAL_IDS, TRIGGER_REACH, detector


@dataclass(frozen=True)
class Detector:
    type: PiiType
    triggers: tuple[str, ...]
    confirm: Callable[[str, int, int], list[Span]]
    before: int = 4
    after: int = 4
    caseless: bool = False


_SECRET_PREFIXES = (
    "sk-[A-Za-z0-9_-]{20}",
    "[sr]k_(?:live|test)_[A-Za-z0-9]{20}",
    "(?:AKIA|ASIA)[0-9A-Z]{16}",
    "AIza[0-9A-Za-z_-]{35}",
    "gh[pousr]_[A-Za-z0-9]{36}",
    "github_pat_[A-Za-z0-9_]{22}",
    "xox[abpr]-[A-Za-z0-9-]{10}",
)

DETECTORS: tuple[Detector, ...] = (
    Detector(PiiType.SECRET, _SECRET_PREFIXES, d.known_secret_spans, after=256),
    Detector(PiiType.SECRET, ("eyJ[A-Za-z0-9_-]*\\.eyJ",), d.known_secret_spans, after=8192),  # a JWT runs long
    Detector(PiiType.SECRET, ("bearer\\s+[A-Za-z0-9._~+/-]{20}",), d.known_secret_spans, after=512, caseless=True),
    Detector(PiiType.SECRET, ("-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----",), d.pem_spans, after=d.PEM_MAX_BODY + 64),
    Detector(PiiType.IBAN, ("[A-Za-z]{2}[0-9]{2} ?[A-Za-z0-9]{4} ?[0-9A-Za-z]{3}",), d.iban_spans, after=40),
    *(Detector(entry.type, (entry.trigger,), detector(entry), after=TRIGGER_REACH if entry.context else 4, caseless=True)
      for entry in NATIONAL_IDS),
    Detector(PiiType.CARD, ("[0-9](?:[ -]?[0-9]){12,18}",), d.card_spans),
    Detector(PiiType.EMAIL, ("[^\\s@]@[^\\s@.]+\\.",), d.email_spans, before=256, after=256),
    Detector(PiiType.IP_ADDRESS, ("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}",
                                  "[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]*"), d.ip_spans, before=40, after=40),
    Detector(PiiType.SECRET, (f"[A-Za-z0-9_+/=-]{{{d.ENTROPY_MIN_LENGTH}}}",), d.entropy_secret_spans),
    Detector(PiiType.PHONE, ("[0-9](?:[ ().-]{0,2}[0-9]){5,16}",), d.phone_spans, before=8, after=8),
)

"""The entity types the policy filter knows, and what a finding is.

Values are stable API strings: stored in DatasetEvents' ``piiRedacted``, in tenants' policies and in
``[REDACTED:<TYPE>]`` markers. New types may be added; none is renamed.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

Span = tuple[int, int]


class PiiType(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"  # payment card (Luhn)
    IBAN = "IBAN"
    IP_ADDRESS = "IP_ADDRESS"
    SECRET = "SECRET"  # API keys, tokens, private keys, high-entropy strings
    # EU national identifiers, each confirmed by its check digits (python-stdnum)
    DE_IDNR = "DE_IDNR"  # Steuerliche Identifikationsnummer
    FR_NIR = "FR_NIR"  # numéro de sécurité sociale
    NL_BSN = "NL_BSN"  # burgerservicenummer
    BE_NN = "BE_NN"  # rijksregisternummer / numéro de registre national
    AT_SVNR = "AT_SVNR"  # Sozialversicherungsnummer
    ES_DNI = "ES_DNI"  # DNI, and the NIE of foreigners (same check letter)
    IT_CF = "IT_CF"  # codice fiscale
    PL_PESEL = "PL_PESEL"


@dataclass(frozen=True)
class Finding:
    type: PiiType
    start: int  # span in the original text
    end: int

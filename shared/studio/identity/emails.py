"""Email addresses: one canonical form, and a refusal of addresses built to look like another.

Policy (docs/decisions/0022-email-addresses.md):
1. Surrounding white space is stripped. Every other character is judged as given.
2. Refused (422 EMAIL_UNSAFE, with a stable ``reason``):
   - ``invisible``: control and format characters (zero-width space and joiners, bidi controls,
     soft hyphen, BOM), unassigned or private-use code points, spaces, and the letters that
     render as nothing (Hangul fillers, Braille blank);
   - ``combining``: combining marks. "a" + U+0301 renders as "á" and U+0323 as a dot that
     vanishes at small sizes; a precomposed letter ("é") is fine;
   - ``compatibility``: anything NFKC would change (fullwidth "ａｄａ", ligatures, superscripts,
     circled letters): it renders like the plain address it folds to;
   - ``mixed_script``: the local part, or one label of the domain, mixes scripts (Cyrillic "а"
     in "аda"); the parts are judged separately (UTS 39), so "ада@example.com" may exist;
   - ``confusable``: a part written in another script whose every letter has a Latin lookalike
     (Cyrillic "аре" reads "ape").
3. The address kept is NFKC + lower-case (stored, shown, mailed to). The key that decides
   whether two addresses are the same account is its case fold (``Straße`` and ``strasse``
   collide), hashed into ``email_key``.

Script and lookalike data come from ``confusable_homoglyphs`` (Unicode's Scripts.txt and
confusables.txt), imported on first use.
"""
from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from studio.identity import errors as identity_errors
from studio.kernel import errors

_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp"}
_COMBINING_CATEGORIES = {"Mn", "Mc", "Me"}
# Letters and symbols that draw nothing (Default_Ignorable or blank), which unicodedata's
# categories do not flag.
_BLANK_LOOKING = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u034f", "\u17b4", "\u17b5"}
_NEUTRAL_SCRIPTS = {"COMMON", "INHERITED"}


def normalise(raw: str, field: str = "body.email") -> str:
    """The address to keep, or StudioError(EMAIL_UNSAFE) naming the reason."""
    text = raw.strip()
    if "@" not in text:
        raise _unsafe("syntax", "an address needs a local part and a domain", field)
    address = unicodedata.normalize("NFKC", text).lower()
    for candidate in (text, address):  # lower() can introduce marks too ("İ" -> "i" + U+0307)
        for char in candidate:
            if char in _BLANK_LOOKING or unicodedata.category(char) in _INVISIBLE_CATEGORIES:
                raise _unsafe("invisible", f"invisible character U+{ord(char):04X}", field)
            if unicodedata.category(char) in _COMBINING_CATEGORIES:
                raise _unsafe("combining", f"combining character U+{ord(char):04X}", field)
    if unicodedata.normalize("NFKC", text) != text:
        raise _unsafe("compatibility", "the address uses compatibility forms (e.g. fullwidth letters)", field)
    local, _, domain = address.rpartition("@")
    for part in (local, *domain.split(".")):
        _check_scripts(part, field)
    return address


def email_key(address: str) -> str:
    """The account identity of an address (already normalised): hex SHA-256 of its case fold.
    ASCII addresses hash as before this module existed (case fold = lower case)."""
    return hashlib.sha256(address.casefold().encode()).hexdigest()


def _check_scripts(part: str, field: str) -> None:
    if part.isascii():
        return
    from confusable_homoglyphs import categories

    scripts = {categories.alias(c) for c in part} - _NEUTRAL_SCRIPTS
    if len(scripts) > 1:
        raise _unsafe("mixed_script", f"'{part}' mixes {', '.join(sorted(s.title() for s in scripts))}", field)
    if scripts and scripts != {"LATIN"} and _all_letters_look_latin(part):
        raise _unsafe("confusable", f"'{part}' can be read as a Latin address", field)


def _all_letters_look_latin(part: str) -> bool:
    from confusable_homoglyphs import categories, confusables

    letters = [c for c in part if categories.alias(c) not in _NEUTRAL_SCRIPTS]
    found: Any = confusables.is_confusable(part, greedy=True, preferred_aliases=[]) or []
    lookalike = {hit["character"] for hit in found
                 if any(h["c"].isascii() and h["c"].isalnum() for h in hit["homoglyphs"])}
    return bool(letters) and all(c in lookalike for c in letters)


def _unsafe(reason: str, detail: str, field: str) -> errors.StudioError:
    return errors.StudioError(identity_errors.EMAIL_UNSAFE, detail, reason=reason,
                              errors=[{"field": field, "message": detail}])

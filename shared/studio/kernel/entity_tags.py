"""RFC 9110 entity-tags: parsing ``If-Match`` / ``If-None-Match`` and the two comparisons.

    If-Match      = "*" / #entity-tag          (8.8.3, 13.1.1)
    entity-tag    = [ "W/" ] DQUOTE *etagc DQUOTE
    etagc         = %x21 / %x23-7E / obs-text

Strong comparison (If-Match): both tags strong and their opaque parts identical, so a weak
tag never matches. Weak comparison (If-None-Match): the opaque parts identical, weakness
ignored. A malformed field is refused with INVALID_PRECONDITION; its detail names the
header and the expected shape, never the parser's own words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from studio.kernel import errors

# One tag, with the optional whitespace around it. etagc excludes DQUOTE, controls and SP;
# a comma is a valid etagc, so lists are scanned tag by tag rather than split on commas.
_TAG = re.compile(r'[ \t]*(W/)?"([^"\x00-\x20\x7f]*)"[ \t]*')
_EMPTY_ELEMENT = re.compile(r"[ \t]*,")  # RFC 9110 5.6.1: empty list elements are ignored


@dataclass(frozen=True)
class EntityTag:
    opaque: str  # without the quotes
    weak: bool = False


@dataclass(frozen=True)
class EntityTags:
    """A parsed field: ``*`` or a non-empty list of tags."""

    any: bool
    tags: tuple[EntityTag, ...] = ()

    def strong_match(self, current: EntityTag | None) -> bool:
        """If-Match: does the field match the current representation's tag (None: none exists)?"""
        if current is None:
            return False
        if self.any:
            return True
        return not current.weak and any(not t.weak and t.opaque == current.opaque for t in self.tags)

    def weak_match(self, current: EntityTag | None, *, exists: bool) -> bool:
        """If-None-Match: true when the field matches (so a GET answers 304)."""
        if self.any:
            return exists
        return current is not None and any(t.opaque == current.opaque for t in self.tags)


def parse(header: str, value: str | None) -> EntityTags | None:
    """The field's value, or None when it is absent or blank."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text == "*":
        return EntityTags(any=True)
    tags: list[EntityTag] = []
    pos = 0
    while pos < len(text):
        empty = _EMPTY_ELEMENT.match(text, pos)
        if empty is not None:
            pos = empty.end()
            continue
        m = _TAG.match(text, pos)
        if m is None:
            raise _malformed(header)
        tags.append(EntityTag(m.group(2), weak=m.group(1) is not None))
        pos = m.end()
        if pos < len(text) and text[pos] != ",":
            raise _malformed(header)
    if not tags:
        raise _malformed(header)
    return EntityTags(any=False, tags=tuple(tags))


def _malformed(header: str) -> errors.StudioError:
    return errors.StudioError(errors.INVALID_PRECONDITION,
                              f'{header} must be "*" or a comma-separated list of entity-tags like "3"')

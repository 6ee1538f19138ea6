"""RFC 9110 entity-tag fields: the grammar, strong comparison (If-Match), weak (If-None-Match)."""
from __future__ import annotations

import pytest

from studio.kernel import errors
from studio.kernel.entity_tags import EntityTag, EntityTags, parse

CURRENT = EntityTag("3")


def _tags(value: str) -> EntityTags:
    parsed = parse("If-Match", value)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize("value", [None, "", "   "])
def test_absent_or_blank_is_none(value: str | None) -> None:
    assert parse("If-Match", value) is None


@pytest.mark.parametrize(("value", "tags"), [
    ('"3"', (EntityTag("3"),)),
    ('W/"3"', (EntityTag("3", weak=True),)),
    ('"2", "3"', (EntityTag("2"), EntityTag("3"))),
    ('"2",W/"3" ,\t"x"', (EntityTag("2"), EntityTag("3", weak=True), EntityTag("x"))),
    (', "2",, "3",', (EntityTag("2"), EntityTag("3"))),  # empty list elements are ignored (5.6.1)
    ('"a,b"', (EntityTag("a,b"),)),  # a comma is a valid etagc: lists are not split on commas
    ('""', (EntityTag(""),)),
    ('"\xe9t\xe9"', (EntityTag("\xe9t\xe9"),)),  # obs-text
])
def test_lists_of_tags(value: str, tags: tuple[EntityTag, ...]) -> None:
    assert parse("If-Match", value) == EntityTags(any=False, tags=tags)


def test_star() -> None:
    assert parse("If-Match", " * ") == EntityTags(any=True)


@pytest.mark.parametrize("value", ["3", "abc", 'W/3', '"3', '3"', '"3" "4"', '"3";', "w/\"3\"", ",", " , ,",
                                   '"a b"', '"\x01"', "*, \"3\"", '"3", *', "W/ \"3\""])
def test_malformed_fields_are_refused_without_parser_internals(value: str) -> None:
    with pytest.raises(errors.StudioError) as caught:
        parse("If-Match", value)
    assert caught.value.code is errors.INVALID_PRECONDITION
    assert caught.value.detail == 'If-Match must be "*" or a comma-separated list of entity-tags like "3"'


def test_strong_comparison_never_matches_a_weak_tag() -> None:
    assert _tags('"3"').strong_match(CURRENT)
    assert not _tags('W/"3"').strong_match(CURRENT)
    assert not _tags('"03"').strong_match(CURRENT)  # character by character, not as numbers
    assert _tags('"1", W/"3", "3"').strong_match(CURRENT)
    assert not _tags('"1", W/"3"').strong_match(CURRENT)


def test_star_matches_any_existing_representation_only() -> None:
    star = parse("If-Match", "*")
    assert star is not None and star.strong_match(CURRENT) and not star.strong_match(None)
    assert star.weak_match(None, exists=True) and not star.weak_match(None, exists=False)


def test_weak_comparison_ignores_weakness() -> None:
    assert _tags('W/"3"').weak_match(CURRENT, exists=True)
    assert _tags('"9", "3"').weak_match(CURRENT, exists=True)
    assert not _tags('"4"').weak_match(CURRENT, exists=True)
    assert not _tags('"3"').weak_match(None, exists=True)


def test_a_long_hostile_field_is_parsed_in_linear_time() -> None:
    import time

    started = time.perf_counter()
    with pytest.raises(errors.StudioError):
        parse("If-Match", " " * 200_000 + "x")
    tags = parse("If-Match", ", ".join(f'"{i}"' for i in range(20_000)))
    assert tags is not None and len(tags.tags) == 20_000
    assert time.perf_counter() - started < 2.0

"""The resume cursor: floor plus the exact position of each message above it."""
from __future__ import annotations

import pytest

from studio.kernel import errors
from studio.realtime.cursor import FINAL, Cursor


def test_plain_seq_when_nothing_streams() -> None:
    c = Cursor(0)
    for seq in (1, 2, 3):
        c.advance(seq, FINAL)
    assert str(c) == "3" and c.seen(2, FINAL) and not c.seen(4, FINAL)


def test_a_reply_streaming_beside_new_messages() -> None:
    c = Cursor(5)
    c.advance(6, 0)  # reply 6 starts
    c.advance(6, 1)
    c.advance(7, FINAL)  # a user message lands while 6 streams
    c.advance(6, 2)
    assert str(c) == "5~6.2,7.f"
    again = Cursor.parse(str(c))
    assert again.seen(6, 2) and not again.seen(6, 3) and again.seen(7, FINAL) and not again.seen(8, FINAL)
    c.advance(6, FINAL)
    assert str(c) == "7"  # the floor catches up once 6 ends


def test_duplicates_are_recognised() -> None:
    c = Cursor.parse("3~4.2")
    assert c.seen(4, 1) and c.seen(4, 2) and not c.seen(4, 3) and c.seen(3, FINAL)


@pytest.mark.parametrize("raw", ["", "x", "3~4", "3~4.x", "-1", "1" * 13])
def test_garbage_is_a_400(raw: str) -> None:
    with pytest.raises(errors.StudioError) as err:
        Cursor.parse(raw)
    assert err.value.status == 400

"""What of a conversation the local model is shown when it does not all fit its context window: the
system prompt and the newest message always, then as much recent history as fits, oldest dropped first."""
from __future__ import annotations

from studio.adapters.local_model import fit_turns
from studio.ports.llm import Turn

SYSTEM = Turn("system", "You are muse.")  # 13 characters


def _history(n: int, size: int) -> list[Turn]:
    return [Turn("user" if i % 2 == 0 else "assistant", str(i % 10) * size) for i in range(n)]


def test_a_conversation_that_fits_is_kept_whole() -> None:
    turns = [SYSTEM, *_history(5, 10)]
    assert fit_turns(turns, 1000) == turns


def test_the_oldest_history_goes_first() -> None:
    history = _history(6, 100)
    kept = fit_turns([SYSTEM, *history], 13 + 350)
    assert kept == [SYSTEM, history[3], history[4], history[5]]


def test_history_stays_contiguous_when_a_long_turn_blocks_it() -> None:
    short, long_, recent = Turn("user", "a" * 10), Turn("assistant", "b" * 500), Turn("user", "c" * 10)
    assert fit_turns([SYSTEM, short, long_, recent], 13 + 100) == [SYSTEM, recent]


def test_a_newest_message_longer_than_the_window_is_cut() -> None:
    kept = fit_turns([SYSTEM, *_history(3, 10), Turn("user", "x" * 5000)], 13 + 400)
    assert kept == [SYSTEM, Turn("user", "x" * 400)]


def test_no_history_and_no_system_prompt() -> None:
    assert fit_turns([Turn("user", "hello")], 3) == [Turn("user", "hel")]
    assert fit_turns([SYSTEM], 5) == [SYSTEM]

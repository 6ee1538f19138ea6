"""The model port: stream a reply token by token, whoever the provider is."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from studio.kernel import errors


@dataclass(frozen=True)
class Turn:
    role: Literal["system", "user", "assistant"]
    text: str


class LlmError(errors.StudioError):
    """The provider failed; ``reason`` is safe to show the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(errors.UNAVAILABLE, reason)
        self.reason = reason


class LlmProvider(Protocol):
    name: str  # "local", "openai-compatible", "gemini"
    model: str

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7) -> Iterator[str]:
        """Yield text pieces as the provider produces them; raise LlmError on failure."""
        ...

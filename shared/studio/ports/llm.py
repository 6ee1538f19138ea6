"""The model port: stream a reply token by token, whoever the provider is, with the tools the model may
call and what the call used.

A stream yields text pieces (``str``), a ``ToolCall`` when the model asks for a tool (the caller runs it
through the one invoke path, ``studio.tools``), and one ``Usage`` at the end: the provider's own counts,
or counted locally for the local model and the echo responder. ``tools`` are OpenAI-style function tools
(``studio.tools.exports.openai_tool``); ``api_key`` and ``model`` override the adapter's defaults for one
call (a tenant's own key, its runtime configuration).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from studio.kernel import errors


@dataclass(frozen=True)
class Turn:
    role: Literal["system", "user", "assistant"]
    text: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str  # as the model named it (OpenAI's "domain__verb", or "domain.verb")
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int


StreamItem = str | ToolCall | Usage


class LlmError(errors.StudioError):
    """The provider failed; ``reason`` is safe to show the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(errors.UNAVAILABLE, reason)
        self.reason = reason


class LlmProvider(Protocol):
    name: str  # "local", "openai-compatible", "gemini"
    model: str

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7, tools: Sequence[Mapping[str, Any]] = (),
               api_key: str | None = None, model: str | None = None) -> Iterator[StreamItem]:
        """Yield text pieces, tool calls and a final Usage as the provider produces them; raise LlmError on failure."""
        ...


def count_tokens(text: str) -> int:
    """Tokens of a text for a model that does not report them: about four characters each (English, BPE)."""
    return (len(text) + 3) // 4


def text_pieces(items: Iterable[StreamItem]) -> Iterator[str]:
    """Only the text of a stream (for callers that offer no tools and keep no usage)."""
    return (item for item in items if isinstance(item, str))

"""The echo responder (``STUDIO_LLM=echo``): no model at all. It streams a fixed, labelled sentence
that quotes the user's last message, word by word on a timer, so tests and benchmarks that assert
exact text or exact timing stay deterministic. The real local model is ``local_model.LocalModel``."""
from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from studio.adapters.tool_command import requested_tool
from studio.ports.llm import StreamItem, ToolCall, Turn, Usage, count_tokens

LABEL = "[echo responder, no model]"


class EchoResponder:
    name = "echo"

    def __init__(self, *, token_delay_s: float = 0.02, model: str = "echo-1") -> None:
        self.token_delay_s = token_delay_s
        self.model = model

    def reply_text(self, turns: Sequence[Turn]) -> str:
        last = next((t.text for t in reversed(turns) if t.role == "user"), "")
        words = len(last.split())
        return (f"{LABEL} You wrote {words} word{'s' if words != 1 else ''}: \"{last[:400]}\". "
                "STUDIO_LLM=local (the default) answers with a real small model.")

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7, tools: Sequence[Mapping[str, Any]] = (),
               api_key: str | None = None, model: str | None = None) -> Iterator[StreamItem]:
        prompt_tokens = sum(count_tokens(t.text) for t in turns)
        call = requested_tool(turns, tools)
        if isinstance(call, ToolCall):  # "/tool <name> <json>": the model's tool call, offline
            yield call
            yield Usage(prompt_tokens, count_tokens(call.name) + count_tokens(str(call.arguments)))
            return
        text = self.reply_text(turns) if call is None else f"{LABEL} {call}."
        for i, word in enumerate(text.split(" ")):
            if self.token_delay_s:
                time.sleep(self.token_delay_s)
            yield word if i == 0 else " " + word
        yield Usage(prompt_tokens, count_tokens(text))

"""A local model stand-in that needs no network and says so: a deterministic responder that
streams its answer word by word on a timer, for `make serve`, tests and benchmarks."""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from studio.ports.llm import Turn


class LocalResponder:
    name = "local"

    def __init__(self, *, token_delay_s: float = 0.02, model: str = "local-echo-1") -> None:
        self.token_delay_s = token_delay_s
        self.model = model

    def reply_text(self, turns: Sequence[Turn]) -> str:
        last = next((t.text for t in reversed(turns) if t.role == "user"), "")
        words = len(last.split())
        return (f"[local model, no network] You wrote {words} word{'s' if words != 1 else ''}: "
                f"\"{last[:400]}\". Configure STUDIO_LLM=openai or gemini for a real model.")

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7) -> Iterator[str]:
        for i, word in enumerate(self.reply_text(turns).split(" ")):
            if self.token_delay_s:
                time.sleep(self.token_delay_s)
            yield word if i == 0 else " " + word

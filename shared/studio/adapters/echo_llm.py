"""The echo responder (``STUDIO_LLM=echo``): no model at all. It streams a fixed, labelled sentence
that quotes the user's last message, word by word on a timer, so tests and benchmarks that assert
exact text or exact timing stay deterministic. The real local model is ``local_model.LocalModel``."""
from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from studio.ports.llm import Turn

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

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7) -> Iterator[str]:
        for i, word in enumerate(self.reply_text(turns).split(" ")):
            if self.token_delay_s:
                time.sleep(self.token_delay_s)
            yield word if i == 0 else " " + word

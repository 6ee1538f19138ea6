"""Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, OpenAI, ...), streamed."""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from studio.ports.llm import LlmError, Turn

_ROLES = {"system": "system", "user": "user", "assistant": "assistant"}


class OpenAiCompatible:
    name = "openai-compatible"

    def __init__(self, base_url: str, *, model: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self._timeout_s = timeout_s

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7) -> Iterator[str]:
        import httpx  # only the functions that talk to a model pay for it

        body = {"model": self.model, "stream": True, "temperature": temperature,
                "messages": [{"role": _ROLES[t.role], "content": t.text} for t in turns]}
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=headers,
                              timeout=self._timeout_s) as resp:
                if resp.status_code != 200:
                    raise LlmError(f"provider answered {resp.status_code}")
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    try:
                        choice = json.loads(payload)["choices"][0]
                    except (ValueError, KeyError, IndexError):
                        raise LlmError("provider sent a malformed stream event") from None
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except httpx.HTTPError as exc:
            raise LlmError(f"provider unreachable: {type(exc).__name__}") from None

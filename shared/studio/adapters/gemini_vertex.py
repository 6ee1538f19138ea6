"""Gemini on Vertex AI through google-genai (``vertexai=True``), imported on first use:
the SDK costs ~1 s to import, which no cold start should pay before it needs a model."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from studio.ports.llm import LlmError, Turn


class GeminiVertex:
    name = "gemini"

    def __init__(self, project: str, location: str = "europe-west1", *, model: str = "gemini-2.5-flash",
                 client: Any | None = None) -> None:
        self.project = project
        self.location = location
        self.model = model
        self._client = client

    def _get_client(self) -> Any:
        if self._client is None:
            from google import genai

            self._client = genai.Client(vertexai=True, project=self.project, location=self.location)
        return self._client

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7) -> Iterator[str]:
        from google.genai import errors as genai_errors
        from google.genai import types

        system = "\n".join(t.text for t in turns if t.role == "system") or None
        contents = [types.Content(role="model" if t.role == "assistant" else "user", parts=[types.Part(text=t.text)])
                    for t in turns if t.role != "system"]
        config = types.GenerateContentConfig(temperature=temperature, system_instruction=system)
        try:
            for chunk in self._get_client().models.generate_content_stream(model=self.model, contents=contents,
                                                                           config=config):
                if chunk.text:
                    yield chunk.text
        except genai_errors.APIError as exc:
            raise LlmError(f"Gemini failed: {exc.code}") from None

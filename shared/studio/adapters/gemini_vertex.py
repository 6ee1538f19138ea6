"""Gemini on Vertex AI through google-genai (``vertexai=True``), imported on first use:
the SDK costs ~1 s to import, which no cold start should pay before it needs a model.

Function calling: the offered tools become function declarations (their JSON Schema as
``parameters_json_schema``); a ``function_call`` part is yielded as a ``ToolCall``. Usage comes from
``usage_metadata``. A per-call ``api_key`` (a tenant's own key) uses the Gemini API with that key."""
from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from studio.ports.llm import LlmError, StreamItem, ToolCall, Turn, Usage, count_tokens


class GeminiVertex:
    name = "gemini"

    def __init__(self, project: str, location: str = "europe-west1", *, model: str = "gemini-2.5-flash",
                 client: Any | None = None) -> None:
        self.project = project
        self.location = location
        self.model = model
        self._client = client

    def _get_client(self, api_key: str | None = None) -> Any:
        from google import genai

        if api_key:
            return genai.Client(api_key=api_key)
        if self._client is None:
            self._client = genai.Client(vertexai=True, project=self.project, location=self.location)
        return self._client

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7, tools: Sequence[Mapping[str, Any]] = (),
               api_key: str | None = None, model: str | None = None) -> Iterator[StreamItem]:
        from google.genai import errors as genai_errors
        from google.genai import types

        system = "\n".join(t.text for t in turns if t.role == "system") or None
        contents = [types.Content(role="model" if t.role == "assistant" else "user", parts=[types.Part(text=t.text)])
                    for t in turns if t.role != "system"]
        declarations = [types.FunctionDeclaration(name=t["function"]["name"], description=t["function"].get("description"),
                                                  parameters_json_schema=t["function"].get("parameters"))
                        for t in tools if t.get("type") == "function"]
        config = types.GenerateContentConfig(
            temperature=temperature, system_instruction=system,
            tools=[types.Tool(function_declarations=declarations)] if declarations else None,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True) if declarations else None)
        usage: Usage | None = None
        written = 0
        try:
            for chunk in self._get_client(api_key).models.generate_content_stream(
                    model=model or self.model, contents=contents, config=config):
                meta = chunk.usage_metadata
                if meta is not None and meta.prompt_token_count is not None:
                    usage = Usage(int(meta.prompt_token_count or 0), int(meta.candidates_token_count or 0))
                for candidate in chunk.candidates or ():
                    for part in (candidate.content.parts if candidate.content else None) or ():
                        if part.function_call is not None:
                            call = part.function_call
                            yield ToolCall(call.id or "call_" + secrets.token_hex(6), call.name or "",
                                           dict(call.args or {}))
                        elif part.text:
                            written += len(part.text)
                            yield part.text
        except genai_errors.APIError as exc:
            raise LlmError(f"Gemini failed: {exc.code}") from None
        yield usage or Usage(sum(count_tokens(t.text) for t in turns), (written + 3) // 4)

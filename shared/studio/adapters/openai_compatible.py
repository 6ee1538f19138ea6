"""Any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, OpenAI, ...), streamed, with function
tools: a tool call's pieces (``delta.tool_calls``, arguments arriving as string fragments) are joined by
index and yielded as one ``ToolCall`` each once the stream ends; ``usage`` comes from the provider
(``stream_options.include_usage``) or, when it sends none, is counted locally."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from studio.ports.llm import LlmError, StreamItem, ToolCall, Turn, Usage, count_tokens

_ROLES = {"system": "system", "user": "user", "assistant": "assistant"}


class OpenAiCompatible:
    name = "openai-compatible"

    def __init__(self, base_url: str, *, model: str, api_key: str = "", timeout_s: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key
        self._timeout_s = timeout_s

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7, tools: Sequence[Mapping[str, Any]] = (),
               api_key: str | None = None, model: str | None = None) -> Iterator[StreamItem]:
        import httpx  # only the functions that talk to a model pay for it

        body: dict[str, Any] = {"model": model or self.model, "stream": True, "temperature": temperature,
                                "stream_options": {"include_usage": True},
                                "messages": [{"role": _ROLES[t.role], "content": t.text} for t in turns]}
        if tools:
            body["tools"] = [dict(t) for t in tools]
        key = api_key or self._api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        calls: dict[int, dict[str, Any]] = {}
        usage: Usage | None = None
        written = 0
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
                        break
                    try:
                        event = json.loads(payload)
                        choices = event.get("choices") or []
                    except (ValueError, AttributeError):
                        raise LlmError("provider sent a malformed stream event") from None
                    if isinstance(event.get("usage"), dict):
                        usage = _usage(event["usage"])
                    for choice in choices:
                        delta = choice.get("delta") or {}
                        piece = delta.get("content")
                        if piece:
                            written += len(piece)
                            yield piece
                        for part in delta.get("tool_calls") or ():
                            _merge(calls, part)
        except httpx.HTTPError as exc:
            raise LlmError(f"provider unreachable: {type(exc).__name__}") from None
        for index in sorted(calls):
            yield _tool_call(calls[index])
        yield usage or Usage(sum(count_tokens(t.text) for t in turns), (written + 3) // 4)


def _merge(calls: dict[int, dict[str, Any]], part: Mapping[str, Any]) -> None:
    call = calls.setdefault(int(part.get("index", 0)), {"id": "", "name": "", "arguments": ""})
    function = part.get("function") or {}
    call["id"] = part.get("id") or call["id"]
    call["name"] += function.get("name") or ""
    call["arguments"] += function.get("arguments") or ""


def _tool_call(call: Mapping[str, Any]) -> ToolCall:
    try:
        arguments = json.loads(call["arguments"] or "{}")
    except ValueError:
        raise LlmError(f"the provider's call of {call['name']} has arguments that are not JSON") from None
    if not isinstance(arguments, dict):
        raise LlmError(f"the provider's call of {call['name']} has arguments that are not an object")
    return ToolCall(call["id"] or "call", call["name"], arguments)


def _usage(raw: Mapping[str, Any]) -> Usage:
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))

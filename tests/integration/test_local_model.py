"""The local model for real (SmolLM2-135M-Instruct in llama.cpp, no network): it streams a real answer
in pieces, reproducibly at temperature 0 with a seed, a conversation longer than its context window still
gets an answer, and the agent pipeline writes its reply as chunk documents. One small engine (a 512-token
window, short replies) serves every test here, so the suite pays for one load."""
from __future__ import annotations

import time

import httpx
import pytest

from studio.adapters.echo_llm import LABEL
from studio.adapters.local_model import LocalModel
from studio.agents.pipeline import AgentPipeline
from studio.chat import paths
from studio.chat.services import chat_services
from studio.events.routes import events_services
from studio.ports.llm import Turn, text_pieces
from studio.ports.store import Query
from tests.support.api import User
from tests.support.platform import RunningPlatform

MODEL = LocalModel(max_tokens=24, context_tokens=512, seed=42)
QUESTION = [Turn("system", "You are muse, a creative assistant. Be concise."), Turn("user", "Name three colours.")]


def test_streams_a_real_answer_in_pieces() -> None:
    started = time.monotonic()
    pieces = list(text_pieces(MODEL.stream(QUESTION, temperature=0)))
    elapsed = time.monotonic() - started  # the first call in the process includes loading the model
    text = "".join(pieces)
    assert len(pieces) >= 2 and text.strip() and not text.startswith(LABEL), pieces
    assert elapsed < 30, f"{elapsed:.1f} s for {len(pieces)} pieces"
    again = "".join(text_pieces(MODEL.stream(QUESTION, temperature=0)))
    assert again == text  # temperature 0 and a fixed seed: the same words again


@pytest.mark.slow
def test_a_conversation_longer_than_the_window_still_gets_an_answer() -> None:
    # Digits separated by spaces cost about one token per two characters: far more tokens than the
    # first estimate of the window allows, so llama.cpp refuses the first prompt and history is cut.
    history = [Turn("user" if i % 2 == 0 else "assistant", " ".join(str(i % 10) * 300)) for i in range(12)]
    text = "".join(text_pieces(MODEL.stream([QUESTION[0], *history, Turn("user", "Say hello.")], temperature=0)))
    assert text.strip()


def test_the_pipeline_streams_the_local_model_into_chunks(platform: RunningPlatform, client: httpx.Client,
                                                          owner: User, tenant: str) -> None:
    deps = platform.deps
    pipeline = AgentPipeline(deps.store, chat_services(deps).messages, MODEL, events_services(deps).logger,
                             flush_s=0.0)  # every piece its own chunk document
    h = owner.in_tenant(tenant)
    thread = client.post("/chat/threads", json={"title": "real"}, headers=h).json()["id"]
    posted = client.post(f"/chat/threads/{thread}/messages", json={"text": "Name three colours."}, headers=h).json()
    stats = pipeline.handle(tenant, "dev", thread, posted["seq"])
    assert stats is not None and stats.chunks >= 2
    reply = client.get(f"/chat/threads/{thread}/messages", headers=h).json()["messages"][-1]
    assert reply["role"] == "agent" and reply["status"] == "complete" and reply["text"].strip()
    assert not reply["text"].startswith(LABEL)
    chunks = deps.store.query(Query(paths.chunks(tenant, "dev", thread, reply["seq"]), order_by=[("n", "asc")])).docs
    assert len(chunks) == stats.chunks and "".join(c.data["text"] for c in chunks) == reply["text"]
    platform.drain()  # the DatasetEvent reaches the log; the fixture's own pipeline finds the reply made
    logged = client.get("/events/datasets", params={"surface": "chat"}, headers=h).json()["events"]
    ours = next(e for e in logged if e["threadId"] == thread)
    assert ours["provider"] == "local" and ours["model"] == "SmolLM2-135M-Instruct.Q4_1"
    messages = client.get(f"/chat/threads/{thread}/messages", headers=h).json()["messages"]
    assert [m["role"] for m in messages] == ["user", "agent"]  # answered once

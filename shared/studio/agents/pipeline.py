"""The agent pipeline (CAPABILITIES A3): on a user message, log a DatasetEvent, keep a memory
snippet, filter the prompt, ask the governance gates, call the model and stream the reply.

Streaming writes: the first piece is persisted at once (time to first token), later pieces
are batched into chunk documents no more often than every ``flush_s`` (Firestore's write
rate), and the message document is written only at creation and at the end.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.agents.governance import (
    AgentCall,
    GovernanceBlocked,
    GovernanceGate,
    ModelCallGovernance,
    check_all,
    count_tokens,
)
from studio.agents.tool_calls import MAX_TOOL_CALLS, AgentTools, AgentTurn
from studio.chat import paths
from studio.chat.messages import MessageService
from studio.chat.tools import AGENT_AUTHOR_PREFIX
from studio.events.logger import DatasetEventLogger
from studio.events.models import DatasetEventIn
from studio.kernel import errors, logs
from studio.kernel.clock import utc_now
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.ports.llm import LlmError, LlmProvider, ToolCall, Turn, Usage
from studio.ports.store import DocumentStore, Filter, Query
from studio.privacy.pii import scrub_text
from studio.runtime_config.configs import ResolvedModel, RuntimeConfigs

_log = logs.get("studio.agents")
# The Nexus cards for a turn (tenant, env, the user's text) -> (prompt block, card refs); see agents/services.py.
InfluenceSource = Callable[[str, str, str], tuple[str, list[dict[str, Any]]]]
HISTORY = 20
SYSTEM_PROMPT = "You are {agent}, a creative assistant in a studio app. Be concise and helpful."


@dataclass
class PipelineStats:
    writes: int = 0
    chunks: int = 0
    first_piece_at: float | None = None
    output: str = ""  # what the model wrote so far (a failed stream is still paid for)
    temperature: float | None = None  # what the call used, inside the tenant's corridor
    model: str | None = None  # the model the call used: the tenant's runtime configuration, else the adapter's
    usage: Usage | None = None  # what the model says it used (counted locally by the local responders)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # name, version, audit id or refusal code
    timings: dict[str, float] = field(default_factory=dict)


class AgentPipeline:
    def __init__(self, store: DocumentStore, messages: MessageService, llm: LlmProvider,
                 events: DatasetEventLogger, gates: list[GovernanceGate] | None = None,
                 governance: ModelCallGovernance | None = None, tools: AgentTools | None = None, *,
                 models: RuntimeConfigs | None = None, influence: InfluenceSource | None = None,
                 flush_s: float = 0.25, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._messages = messages
        self._llm = llm
        self._events = events
        self._gates = gates or []
        self._governance = governance
        self._tools = tools
        self._models = models  # the tenant's runtime configuration: model and BYOK key per agent
        self._flush_s = flush_s
        self._clock = clock
        self._influence = influence

    def handle(self, tenant_id: str, env: str, thread_id: str, user_seq: int) -> PipelineStats | None:
        """Answer the user message at ``user_seq``. Redelivery-safe: one reply per user message."""
        stats = PipelineStats()
        user_msg = self._messages.get(tenant_id, env, thread_id, user_seq)
        thread = self._store.get(paths.thread(tenant_id, env, thread_id))
        if user_msg is None or thread is None or thread.data.get("deleted") or user_msg["role"] != "user":
            return None  # gone or not ours: nothing to answer
        agent_id = thread.data["agent_id"]
        ctx = RequestContext(tenant_id, env, Principal(user_msg["author"]), Role.MEMBER)
        reply = self._claim_reply(tenant_id, env, thread_id, user_seq, agent_id)
        if reply is None:  # answered already (a redelivery): only the event log may be owed
            self._log_if_owed(ctx, thread_id, agent_id, user_msg)
            return None
        started = self._clock()
        text, pieces, error = "", 0, None
        block, cards = "", list[dict[str, Any]]()
        try:
            self._remember(tenant_id, env, thread_id, user_msg)
            resolved = self._models.resolve_model(tenant_id, env, agent_id) if self._models is not None else None
            model = stats.model = resolved.model if resolved is not None and resolved.model else self._llm.model
            call = AgentCall(tenant_id, env, user_msg["author"], agent_id, self._llm.name, model)
            check_all(self._gates, call)
            block, cards = self._influence_pack(tenant_id, env, user_msg["text"])
            turns = self._turns(tenant_id, env, thread_id, agent_id, user_seq)
            if block:  # the Nexus cards, after the system prompt: the agent may cite them
                turns.insert(1, Turn("system", block))
            turn = AgentTurn(tenant_id, env, thread_id, user_seq, user_msg["author"], agent_id)
            text, pieces = self._governed_stream(call, turn, reply["seq"], turns, stats, resolved)
        except (LlmError, GovernanceBlocked) as exc:
            error = exc.reason
        except errors.StudioError as exc:
            error = exc.detail
        if error is not None:  # what streamed before the failure (a tool call, say) stays in the reply
            text, pieces = stats.output, stats.chunks
        self._messages.finish(tenant_id, env, thread_id, reply["seq"], text=text, chunks=pieces, error=error,
                              metadata={"influence_cards": cards} if cards else None)
        stats.writes += 1
        self._log_event(ctx, thread_id, agent_id, user_msg["text"], text, error, self._clock() - started,
                        stats.temperature, stats.tool_calls, stats.model)
        self._store.put(self._marker(tenant_id, env, thread_id, user_seq), {"reply_seq": reply["seq"], "logged": True})
        return stats

    def _marker(self, tenant_id: str, env: str, thread_id: str, user_seq: int) -> str:
        return f"{paths.thread(tenant_id, env, thread_id)}/replies/{user_seq:0{paths.SEQ_WIDTH}d}"

    def _log_if_owed(self, ctx: RequestContext, thread_id: str, agent_id: str, user_msg: dict[str, Any]) -> None:
        """A crash after the reply finished but before its DatasetEvent was published: publish it now."""
        marker = self._store.get(self._marker(ctx.tenant_id, ctx.env, thread_id, user_msg["seq"]))
        if marker is None or marker.data.get("logged"):
            return
        reply = self._messages.get(ctx.tenant_id, ctx.env, thread_id, marker.data["reply_seq"]) or {}
        self._log_event(ctx, thread_id, agent_id, user_msg["text"], reply.get("text", ""), reply.get("error"), 0.0)
        self._store.put(marker.path, dict(marker.data, logged=True))

    def _claim_reply(self, tenant_id: str, env: str, thread_id: str, user_seq: int, agent_id: str) -> dict[str, Any] | None:
        marker = self._marker(tenant_id, env, thread_id, user_seq)
        existing = self._store.get(marker)
        if existing is not None:
            prior = self._messages.get(tenant_id, env, thread_id, existing.data["reply_seq"])
            if prior is not None and prior["status"] != "streaming":
                return None
            if prior is not None:  # an earlier attempt died mid-stream: close it honestly, answer anew
                self._messages.finish(tenant_id, env, thread_id, prior["seq"], text=prior.get("text", ""),
                                      chunks=prior.get("chunks", 0), error="interrupted; retried")
        reply = self._messages.start_reply(tenant_id, env, thread_id, agent_id, user_seq)
        self._store.put(marker, {"reply_seq": reply["seq"], "logged": False, "at": utc_now()})
        return reply

    def _remember(self, tenant_id: str, env: str, thread_id: str, user_msg: dict[str, Any]) -> None:
        """A memory snippet for the session (Nexus memory reads these)."""
        snippet = scrub_text(user_msg["text"][:500]).text
        self._store.put(f"{paths.memory_snippets(tenant_id, env, thread_id)}/{user_msg['seq']:0{paths.SEQ_WIDTH}d}",
                        {"text": snippet, "seq": user_msg["seq"], "author": user_msg["author"], "at": utc_now()})

    def _influence_pack(self, tenant_id: str, env: str, text: str) -> tuple[str, list[dict[str, Any]]]:
        """The turn's Nexus influence pack; a knowledge base that fails leaves the reply without it, not failed."""
        if self._influence is None:
            return "", []
        try:
            return self._influence(tenant_id, env, scrub_text(text).text)
        except errors.StudioError as exc:
            _log.warning("influence pack unavailable", extra={"code": exc.code.code})
            return "", []

    def _turns(self, tenant_id: str, env: str, thread_id: str, agent_id: str, upto: int) -> list[Turn]:
        page = self._store.query(Query(paths.messages(tenant_id, env, thread_id),
                                       [Filter("seq", "<=", upto), Filter("seq", ">", max(0, upto - HISTORY))],
                                       [("seq", "asc")], HISTORY))
        turns = [Turn("system", SYSTEM_PROMPT.format(agent=agent_id))]
        for doc in page.docs:
            d = doc.data
            if d["status"] == "failed" or not d["text"]:
                continue
            # The policy filter: no personal data leaves for a model provider.
            turns.append(Turn("user" if d["role"] == "user" else "assistant", scrub_text(d["text"]).text))
        return turns

    def _governed_stream(self, call: AgentCall, turn: AgentTurn, seq: int, turns: list[Turn],
                         stats: PipelineStats, resolved: ResolvedModel | None = None) -> tuple[str, int]:
        """Admit the call (kill switches, lock, budget reservation, corridor), stream, then settle what it used
        (the provider's usage when it reports one)."""
        if self._governance is None:
            return self._stream(turn, seq, turns, stats, resolved=resolved)
        admission = self._governance.admit(call, turns)
        stats.temperature = admission.temperature
        try:
            return self._stream(turn, seq, turns, stats, admission.temperature, resolved)
        finally:
            used = stats.usage
            self._governance.settle(admission, call, used.input_tokens if used else admission.input_tokens,
                                    used.output_tokens if used else count_tokens(stats.output))

    def _stream(self, turn: AgentTurn, seq: int, turns: list[Turn], stats: PipelineStats,
                temperature: float | None = None, resolved: ResolvedModel | None = None) -> tuple[str, int]:
        text, buffer, n = "", "", 0
        last_flush: float | None = None
        tenant_id, env, thread_id = turn.tenant_id, turn.env, turn.thread_id

        def flush() -> None:
            nonlocal buffer, n
            n += 1
            self._messages.append_chunk(tenant_id, env, thread_id, seq, n, buffer)
            stats.writes += 1
            stats.chunks = n
            buffer = ""

        def write(piece: str, *, at_once: bool = False) -> None:
            nonlocal text, buffer, last_flush
            text += piece
            stats.output = text
            buffer += piece
            now = self._clock()
            if at_once or last_flush is None or now - last_flush >= self._flush_s:
                flush()
                stats.first_piece_at = stats.first_piece_at or now
                last_flush = now

        ctx = self._tool_context(turn)
        offered = self._tools.offered(ctx) if self._tools is not None and ctx is not None else []
        options: dict[str, Any] = {"tools": offered} if offered else {}
        if temperature is not None:
            options["temperature"] = temperature
        if resolved is not None and resolved.model:
            options["model"] = resolved.model
        if resolved is not None and resolved.api_key:
            options["api_key"] = resolved.api_key  # the tenant's own key (BYOK) for this call only
        for item in self._llm.stream(turns, **options):
            if isinstance(item, str):
                write(item)
            elif isinstance(item, Usage):
                stats.usage = item
            elif isinstance(item, ToolCall) and self._tools is not None and ctx is not None:
                if len(stats.tool_calls) >= MAX_TOOL_CALLS:
                    raise GovernanceBlocked(f"more than {MAX_TOOL_CALLS} tool calls in one reply")
                self._run_tool(ctx, turn, item, stats, write)
        if buffer:
            flush()
        stats.chunks = n
        return text, n

    def _tool_context(self, turn: AgentTurn) -> RequestContext | None:
        """Tools are offered for a member's own message, never for one an agent posted by tool (no loops)."""
        if self._tools is None or turn.author.startswith(AGENT_AUTHOR_PREFIX):
            return None
        return self._tools.context(turn)

    def _run_tool(self, ctx: RequestContext, turn: AgentTurn, call: ToolCall, stats: PipelineStats,
                  write: Callable[..., None]) -> None:
        """The call and its result stream into the reply as their own chunks; a refusal fails the reply."""
        assert self._tools is not None
        write(f"\n[tool call] {call.name} {json.dumps(call.arguments, sort_keys=True)}\n", at_once=True)
        try:
            result = self._tools.run(ctx, turn, call, len(stats.tool_calls))
        except errors.StudioError as exc:
            stats.tool_calls.append({"tool": call.name, "code": exc.code.code})
            raise GovernanceBlocked(f"{exc.code.code}: {exc.detail}", exc.code) from None
        stats.tool_calls.append({"tool": result["tool"], "version": result["version"], "audit_id": result["audit_id"]})
        write(f"[tool result] {result['tool']}@{result['version']} {json.dumps(result['output'], sort_keys=True)}\n",
              at_once=True)

    def _log_event(self, ctx: RequestContext, thread_id: str, agent_id: str, prompt: str, reply: str,
                   error: str | None, elapsed_s: float, temperature: float | None = None,
                   tool_calls: list[dict[str, Any]] | None = None, model: str | None = None) -> None:
        event = DatasetEventIn(surface="chat", agent_id=agent_id, input=prompt, output=reply, thread_id=thread_id,
                               provider=self._llm.name, model=model or self._llm.model, latency_ms=int(elapsed_s * 1000),
                               metadata={"status": "failed" if error else "complete", **({"error": error} if error else {}),
                                         **({"temperature": temperature} if temperature is not None else {}),
                                         **({"tool_calls": list(tool_calls)} if tool_calls else {})})
        self._events.log(ctx, event)


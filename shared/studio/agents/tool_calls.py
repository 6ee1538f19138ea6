"""An agent's tool calls, run through THE invoke path (``studio.tools``) as subject kind ``agent``: the
same schemas, kill switches, strategy locks, role, licence, budget and policy as an HTTP or MCP caller.

The agent acts for the member who wrote the message, so its role is that member's role in the tenant
(an agent never outranks the person it answers); its licence is the agent's own (``agent:<agent_id>``).
The idempotency key is the user message and the model's call id, so a redelivered message never
runs a write twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from studio.governance.gates import Subject
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.ports.llm import ToolCall
from studio.tools.catalog import ToolCatalog
from studio.tools.exports import from_strict_arguments, openai_tool, tool_name_from_openai
from studio.tools.invoker import Invocation, ToolInvoker

MAX_TOOL_CALLS = 4  # per reply: a model that loops on tools stops here


class RoleReader(Protocol):
    def role_of(self, tenant_id: str, user_id: str) -> Role | None: ...


@dataclass(frozen=True)
class AgentTurn:
    tenant_id: str
    env: str
    thread_id: str
    user_seq: int
    author: str
    agent_id: str


class AgentTools:
    def __init__(self, catalog: ToolCatalog, invoker: ToolInvoker, roles: RoleReader) -> None:
        self._catalog = catalog
        self._invoker = invoker
        self._roles = roles

    def context(self, turn: AgentTurn) -> RequestContext | None:
        """The author's context, or None when the author is no member any more (no tools then)."""
        role = self._roles.role_of(turn.tenant_id, turn.author)
        return None if role is None else RequestContext(turn.tenant_id, turn.env, Principal(turn.author), role)

    def offered(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Every tool of the tenant, as OpenAI strict functions (the gates decide at call time)."""
        return [openai_tool(spec) for spec in self._catalog.specs(ctx)]

    def run(self, ctx: RequestContext, turn: AgentTurn, call: ToolCall, index: int) -> dict[str, Any]:
        """Invoke the reply's ``index``-th call; raises the gate's StudioError on a refusal."""
        name = tool_name_from_openai(call.name)
        arguments = dict(call.arguments)
        base_rev = arguments.pop("base_rev", None)
        if not isinstance(base_rev, int) or isinstance(base_rev, bool):
            base_rev = None
        spec = self._catalog.resolve(ctx, name)
        assert ctx.role is not None  # context() gives members only
        return self._invoker.invoke(Invocation(
            ctx, Subject("agent", turn.agent_id, ctx.role), name, from_strict_arguments(spec, arguments),
            base_rev=base_rev, idempotency_key=f"chat:{turn.thread_id}:{turn.user_seq}:{index}",
            agent_id=turn.agent_id))

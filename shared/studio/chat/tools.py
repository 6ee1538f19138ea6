"""Chat's built-in tools (issue 9): post a message into a thread, delete a thread. Invoked only through
``studio.tools`` (gates, schemas and policy are checked there); the handlers use chat's own services."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.roles import Role
from studio.kernel.tools import ToolCost, ToolInvocation, ToolSpec

if TYPE_CHECKING:
    from studio.chat.services import ChatServices
    from studio.kernel.deps import Deps


def chat_services(deps: Deps) -> ChatServices:
    """The domain's services, imported when a tool runs: listing the tools (every domain's specs, on the
    tools function's first request) imports no domain's services (decision 0097)."""
    from studio.chat.services import chat_services as services

    return services(deps)

AGENT_AUTHOR_PREFIX = "agent:"  # a message an agent posted by tool: the pipeline never calls tools for it

_THREAD_ID = {"type": "string", "pattern": "^th_[A-Za-z0-9]{1,64}$"}


def _post_message(call: ToolInvocation) -> dict[str, Any]:
    ctx = call.ctx
    services = chat_services(call.deps)
    thread = services.threads.get_doc(ctx, call.input["thread_id"])
    author = ctx.user_id if call.caller_kind != "agent" else AGENT_AUTHOR_PREFIX + call.caller_id
    message = services.messages.post_user(ctx.tenant_id, ctx.env, thread.doc_id, author, call.input["text"],
                                          None, thread.data["agent_id"])
    return {"thread_id": thread.doc_id, "seq": message["seq"], "message_id": message["id"]}


def _delete_thread(call: ToolInvocation) -> dict[str, Any]:
    assert call.base_rev is not None  # the invoke path refuses a destructive call without one
    chat_services(call.deps).threads.delete(call.ctx, call.input["thread_id"], call.base_rev)
    return {"thread_id": call.input["thread_id"], "deleted": True}


TOOLS = (
    ToolSpec(
        "chat.post_message", "1.0.0", "Post a chat message",
        "Post a message into a thread of this tenant; the thread's agent answers it.",
        {"type": "object", "additionalProperties": False, "required": ["thread_id", "text"],
         "properties": {"thread_id": _THREAD_ID, "text": {"type": "string", "minLength": 1, "maxLength": 8000}}},
        {"type": "object", "required": ["thread_id", "seq", "message_id"],
         "properties": {"thread_id": {"type": "string"}, "seq": {"type": "integer"}, "message_id": {"type": "string"}}},
        _post_message, danger="low", side_effects="write", idempotent=False, required_role=Role.MEMBER,
        cost=ToolCost(usd=0.0, tokens=0),
    ),
    ToolSpec(
        "chat.delete_thread", "1.0.0", "Delete a chat thread",
        "Delete a thread (its author or an admin); needs the thread's base_rev. Live clients are told to reload.",
        {"type": "object", "additionalProperties": False, "required": ["thread_id"],
         "properties": {"thread_id": _THREAD_ID}},
        {"type": "object", "required": ["thread_id", "deleted"],
         "properties": {"thread_id": {"type": "string"}, "deleted": {"type": "boolean"}}},
        _delete_thread, danger="high", side_effects="write", idempotent=False, required_role=Role.MEMBER,
        destructive=True,
    ),
)

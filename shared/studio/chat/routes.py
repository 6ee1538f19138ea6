"""HTTP routes of the chat domain: threads and messages."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.chat.services import chat_services
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.query_spec import QuerySpec, page
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.privacy.services import privacy_services

if TYPE_CHECKING:
    from studio.chat import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.chat.models")

# restates m.ThreadListQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
THREADS = QuerySpec(m.ThreadListQuery, page(200))

chat = Router("chat")


@chat.tenant("GET", "/chat/threads", role=Role.VIEWER, query=THREADS, response=m.ThreadList)
def list_threads(call: Call) -> Any:
    """Threads of the tenant and env, newest first."""
    return chat_services(call.deps).threads.list_threads(call.need_ctx(), call.query.limit, call.query.page_token)


@chat.tenant("POST", "/chat/threads", role=Role.MEMBER, body=m.ThreadIn, response=m.ThreadOut, status=201)
def create_thread(call: Call) -> Any:
    """Start a thread with an agent."""
    return chat_services(call.deps).threads.create(call.need_ctx(), call.body.title, call.body.agent_id)


@chat.tenant("GET", "/chat/threads/{thread_id}", role=Role.VIEWER, response=m.ThreadOut)
def get_thread(call: Call) -> Any:
    """One thread, with its epoch and last seq."""
    return chat_services(call.deps).threads.get(call.need_ctx(), call.params["thread_id"])


def thread_rev(call: Call) -> int | None:
    """The thread's revision, for its author or an admin (anyone else: 403 before any 412)."""
    return chat_services(call.deps).threads.current_rev_for_writer(call.need_ctx(), call.params["thread_id"])


@chat.tenant("PATCH", "/chat/threads/{thread_id}", role=Role.MEMBER, body=m.ThreadPatch, response=m.ThreadOut,
             revisioned=True, current_rev=thread_rev)
def patch_thread(call: Call) -> Any:
    """Rename a thread (its author or an admin); needs If-Match or base_rev."""
    return chat_services(call.deps).threads.rename(call.need_ctx(), call.params["thread_id"], call.body.title,
                                                   call.expected_rev())


@chat.tenant("DELETE", "/chat/threads/{thread_id}", role=Role.MEMBER, query=RevisionQuery, status=204,
             revisioned=True, current_rev=thread_rev)
def delete_thread(call: Call) -> Any:
    """Delete a thread (its author or an admin); needs If-Match or ?base_rev=. Live clients are told to reload."""
    chat_services(call.deps).threads.delete(call.need_ctx(), call.params["thread_id"], call.expected_rev())
    return Reply(None, status=204)


@chat.tenant("GET", "/chat/threads/{thread_id}/messages", role=Role.VIEWER, query=m.MessageListQuery,
             response=m.MessageList)
def list_messages(call: Call) -> Any:
    """Messages after ?since= (a seq), in seq order."""
    ctx = call.need_ctx()
    services = chat_services(call.deps)
    services.threads.get_doc(ctx, call.params["thread_id"])
    return services.messages.list_messages(ctx.tenant_id, ctx.env, call.params["thread_id"], call.query.since, call.query.limit)


@chat.tenant("POST", "/chat/threads/{thread_id}/messages", role=Role.MEMBER, body=m.MessageIn,
             response=m.MessageOut, status=201)
def post_message(call: Call) -> Any:
    """Post a user message; the agent's reply streams over SSE / WebSocket."""
    ctx = call.need_ctx()
    services = chat_services(call.deps)
    thread = services.threads.get_doc(ctx, call.params["thread_id"])
    # The tenant's policy filter, before anything is stored: a blocked entity is 422 POLICY_BLOCKED and
    # the message never exists; a redacted one is stored redacted.
    text = privacy_services(call.deps).policy.apply(ctx.tenant_id, ctx.env, call.body.text, where="chat message")
    return services.messages.post_user(ctx.tenant_id, ctx.env, thread.doc_id, ctx.user_id, text,
                                       call.body.client_id, thread.data["agent_id"])


ROUTERS = (chat,)

"""Memory routes: session messages (``/memory/session/messages``, ``/nexus/memory/sessions/{thread}``)
and blackboards (``/memory/blackboards/{key}``, revisioned)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.call import Call, Reply
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.query_spec import Int, QuerySpec, Text
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.nexus.services import nexus_services

if TYPE_CHECKING:
    from studio.nexus import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.nexus.models")

# restates m.ListQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
LIST = QuerySpec(m.ListQuery, {"limit": Int(ge=1, le=200, default=50), "page_token": Text(max_length=2000)})

memory = Router("memory")
MAX_BOARD_BYTES = 64 * 1024
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-")


@memory.tenant("GET", "/memory/session/messages", role=Role.VIEWER, query=m.SessionQuery, response=m.SessionOut)
def session_messages(call: Call) -> Any:
    """A chat session's memory: the snippets the pipeline kept and the notes added, oldest first."""
    q = call.query
    return nexus_services(call.deps).memory.session(call.need_ctx(), q.thread_id, q.limit)


@memory.tenant("POST", "/memory/session/messages", role=Role.MEMBER, body=m.NoteIn, response=m.SnippetOut, status=201)
def add_session_message(call: Call) -> Any:
    """Add a note to a chat session's memory."""
    return nexus_services(call.deps).memory.add_note(call.need_ctx(), call.body.thread_id, call.body.text)


@memory.tenant("GET", "/nexus/memory/sessions/{thread_id}", role=Role.VIEWER, query=m.SessionLimit,
               response=m.SessionOut)
def nexus_session(call: Call) -> Any:
    """The same session memory, under Nexus."""
    return nexus_services(call.deps).memory.session(call.need_ctx(), call.params["thread_id"], call.query.limit)


@memory.tenant("GET", "/nexus/memory/blackboards", role=Role.VIEWER, query=LIST, response=m.BoardList)
def list_boards(call: Call) -> Any:
    """Blackboards, most recently written first."""
    return nexus_services(call.deps).memory.boards(call.need_ctx(), call.query.limit, call.query.page_token)


def _key(call: Call) -> str:
    key = call.params["key"]
    if not (1 <= len(key) <= 100 and set(key) <= _KEY_CHARS and not key.startswith("__")):
        raise errors.StudioError(errors.VALIDATION_FAILED, "a blackboard key is 1-100 of A-Za-z0-9_.:-")
    return key


@memory.tenant("GET", "/memory/blackboards/{key}", role=Role.VIEWER, response=m.BoardOut)
def get_board(call: Call) -> Any:
    """A blackboard, with its rev (ETag)."""
    return nexus_services(call.deps).memory.board(call.need_ctx(), _key(call))


def _board_rev(call: Call) -> int | None:
    return nexus_services(call.deps).memory.board_rev(call.need_ctx(), _key(call))


@memory.tenant("PUT", "/memory/blackboards/{key}", role=Role.MEMBER, body=m.BoardIn, response=m.BoardOut,
               revisioned=True, current_rev=_board_rev)
def put_board(call: Call) -> Any:
    """Write a blackboard: base_rev 0 (or If-Match "0") creates it; a stale writer gets 412 / 409."""
    content = call.body.content
    if len(json.dumps(content, separators=(",", ":"))) > MAX_BOARD_BYTES:
        raise errors.StudioError(errors.PAYLOAD_TOO_LARGE, f"a blackboard holds at most {MAX_BOARD_BYTES} bytes")
    return nexus_services(call.deps).memory.write_board(call.need_ctx(), _key(call), content, call.expected_rev())


@memory.tenant("DELETE", "/memory/blackboards/{key}", role=Role.MEMBER, query=RevisionQuery, status=204,
               revisioned=True, current_rev=_board_rev)
def delete_board(call: Call) -> Any:
    """Delete a blackboard; needs If-Match or ?base_rev=."""
    nexus_services(call.deps).memory.delete_board(call.need_ctx(), _key(call), call.expected_rev())
    return Reply(None, status=204)

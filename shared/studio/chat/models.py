"""Chat API shapes (CAPABILITIES A3)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from studio.kernel.api_model import ApiModel
from studio.kernel.api_types import PageToken, Revision, Seq, StrictInt

MessageStatus = Literal["complete", "streaming", "failed"]
Role = Literal["user", "agent", "system"]


class _In(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class ThreadIn(_In):
    title: str = Field(default="New chat", min_length=1, max_length=200)
    agent_id: str = Field(default="muse", min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")


class ThreadPatch(_In):
    title: str = Field(min_length=1, max_length=200)
    base_rev: Revision | None = None


class ThreadOut(ApiModel):
    id: str
    title: str
    agent_id: str
    epoch: int
    last_seq: int
    rev: int
    created_by: str
    created_at: str
    updated_at: str


class ThreadList(ApiModel):
    threads: list[ThreadOut]
    next_page_token: str | None = None


class ThreadListQuery(_In):
    limit: StrictInt = Field(default=50, ge=1, le=200)
    page_token: PageToken | None = None


class MessageIn(_In):
    text: str = Field(min_length=1, max_length=32_000)
    client_id: str | None = Field(default=None, max_length=100, description="The client's own id, echoed back")


class MessageOut(ApiModel):
    id: str
    thread_id: str
    seq: int
    epoch: int
    role: Role
    author: str
    text: str
    status: MessageStatus
    reply_to: int | None = None
    client_id: str | None = None
    error: str | None = None
    created_at: str
    completed_at: str | None = None
    metadata: dict[str, Any] | None = None  # an agent reply's sources: {"influence_cards": [...]} (Nexus)


class MessageList(ApiModel):
    messages: list[MessageOut]
    next_since: int | None = Field(default=None, description="Pass as ?since= for the next page")


class MessageListQuery(_In):
    since: Seq = Field(default=0, description="Messages with seq greater than this")
    limit: StrictInt = Field(default=100, ge=1, le=500)


class ChunkOut(ApiModel):
    n: int
    text: str

"""A stored message as the API and the realtime gateway show it: a plain function, apart from the
pydantic models (chat/models.py) so that reading messages does not import pydantic (decision 0082)."""
from __future__ import annotations

from typing import Any

MESSAGE_KEYS = ("id", "seq", "epoch", "role", "author", "text", "status", "reply_to", "client_id", "error",
                "created_at", "completed_at", "metadata")


def message_view(thread_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"thread_id": thread_id, **{k: data.get(k) for k in MESSAGE_KEYS}}

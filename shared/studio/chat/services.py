"""Builds the chat domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.chat.messages import MessageService
from studio.chat.threads import ThreadService


@dataclass(frozen=True)
class ChatServices:
    threads: ThreadService
    messages: MessageService


def chat_services(deps: Any) -> ChatServices:
    return deps.memo("chat", lambda: ChatServices(ThreadService(deps.store), MessageService(deps.store)))  # type: ignore[no-any-return]

"""Builds the chat domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.chat.messages import MessageService
from studio.chat.threads import ThreadService
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class ChatServices:
    threads: ThreadService
    messages: MessageService


CHAT: Slot[ChatServices] = Slot("chat")


def chat_services(deps: Deps) -> ChatServices:
    return deps.memo(CHAT, lambda: ChatServices(ThreadService(deps.store), MessageService(deps.store)))

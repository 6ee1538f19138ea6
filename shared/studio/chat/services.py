"""Builds the chat domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.chat.hints import ThreadHints
from studio.chat.messages import MessageService
from studio.chat.threads import ThreadService
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class ChatServices:
    threads: ThreadService
    messages: MessageService


CHAT: Slot[ChatServices] = Slot("chat")


def chat_services(deps: Deps) -> ChatServices:
    def build() -> ChatServices:
        hints = ThreadHints(deps.broker)  # None without a broker: the gateway follows the store's listeners
        return ChatServices(ThreadService(deps.store, hints), MessageService(deps.store, hints))

    return deps.memo(CHAT, build)

"""The port a domain fills in to have its threads streamed by the gateway.

The gateway streams seq-ordered threads (messages, each reply growing by chunks, an epoch per
thread) without knowing whose: the domain that owns them describes where their documents live,
how a message looks to clients and which of its HTTP routes a client's ``send`` goes through,
and the composition root (``studio/wiring.py``) hands that description to the gateway. So the
gateway imports no domain, and no domain imports the gateway.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.ports.store import Document, DocumentStore

META = "meta"  # the stream name of a tenant's meta channel (in tickets), never a thread id


@dataclass(frozen=True)
class ThreadChannel:
    kind: str  # the URL segment: /sse/{kind}/{thread_id} and /ws/{kind}/{thread_id}
    id_prefix: str  # every thread id starts with it: anything else is unknown without a store read
    threads: Callable[[str, str], str]  # (tenant, env) -> the collection of thread documents
    counter: Callable[[str, str, str], str]  # (tenant, env, thread) -> the document holding ``last_seq``
    messages: Callable[[str, str, str], str]  # -> the collection of messages, document ids in seq order
    chunks: Callable[[str, str, str, int], str]  # (tenant, env, thread, seq) -> a reply's chunk collection
    view: Callable[[str, dict[str, Any]], dict[str, Any]]  # (thread id, message document) -> what clients see
    send_path: Callable[[str], str]  # thread id -> the HTTP route (POST) a client's send goes through

    def thread(self, tenant_id: str, env: str, thread_id: str) -> str:
        return f"{self.threads(tenant_id, env)}/{thread_id}"

    def find(self, store: DocumentStore, tenant_id: str, env: str, thread_id: str) -> Document | None:
        """The thread's document; None when there is no such thread (or it was deleted)."""
        if not thread_id.startswith(self.id_prefix) or "/" in thread_id:
            return None
        doc = store.get(self.thread(tenant_id, env, thread_id))
        return None if doc is None or doc.data.get("deleted") else doc


def find_thread(channels: tuple[ThreadChannel, ...], store: DocumentStore, tenant_id: str, env: str,
                thread_id: str) -> Document | None:
    """The thread in whichever channel holds it (tickets name a thread, not its channel)."""
    for channel in channels:
        doc = channel.find(store, tenant_id, env, thread_id)
        if doc is not None:
            return doc
    return None

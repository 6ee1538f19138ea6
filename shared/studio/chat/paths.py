"""Where chat lives in the store (BLUEPRINT 4), one function per path so rules, indexes
and listeners agree on them."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection

SEQ_WIDTH = 12  # zero-padded, so document ids sort in seq order
CHUNK_WIDTH = 6
REALTIME_KIND = "chat"  # the gateway's /sse/chat and /ws/chat, and the kind in broker channel names


def threads(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "threads")


def thread(tenant_id: str, env: str, thread_id: str) -> str:
    return f"{threads(tenant_id, env)}/{thread_id}"


def counter(tenant_id: str, env: str, thread_id: str) -> str:
    """The per-thread seq allocator, apart from the thread so a title edit never races a post."""
    return f"{thread(tenant_id, env, thread_id)}/meta/counter"


def messages(tenant_id: str, env: str, thread_id: str) -> str:
    return f"{thread(tenant_id, env, thread_id)}/messages"


def message(tenant_id: str, env: str, thread_id: str, seq: int) -> str:
    return f"{messages(tenant_id, env, thread_id)}/{seq:0{SEQ_WIDTH}d}"


def chunks(tenant_id: str, env: str, thread_id: str, seq: int) -> str:
    return f"{message(tenant_id, env, thread_id, seq)}/chunks"


def chunk(tenant_id: str, env: str, thread_id: str, seq: int, n: int) -> str:
    return f"{chunks(tenant_id, env, thread_id, seq)}/{n:0{CHUNK_WIDTH}d}"


def memory_snippets(tenant_id: str, env: str, thread_id: str) -> str:
    return tenant_collection(tenant_id, env, f"memory_sessions/{thread_id}/snippets")

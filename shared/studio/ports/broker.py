"""Realtime broker port: channels that wake gateway instances, and keys that expire
(docs/decisions/0075-realtime-broker.md).

A broker carries *hints*, never the record: the store stays the durable log and the only
source of exact resume. A message on a thread's channel says "thread X moved (to seq N)",
with what was committed there when it fits (decision 0106): the gateway instances holding X
deliver it if it is next at their cursor, else read the store from their cursor. A lost hint (a
publisher's error, a broker failover) only delays delivery until the next hint, the
subscriber's resync after a reconnect, or its safety poll.

Channel names carry the tenant (``thread_channel``): an instance subscribes by exact name,
never by pattern, and only to threads its authenticated clients were admitted to.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from studio.ports.store import Watch

# What a subscriber is handed: a message's bytes, or RESYNC after the broker connection was
# lost and restored (anything published meanwhile is gone: read the store again).
RESYNC = b""
OnMessage = Callable[[bytes], None]

_PART = re.compile(r"[A-Za-z0-9_.-]{1,128}")  # no ':' (the separator), no glob characters


def _checked(what: str, value: str) -> str:
    if not _PART.fullmatch(value):
        raise ValueError(f"a broker channel's {what} is 1-128 of A-Za-z0-9_.-, not {value[:40]!r}")
    return value


def thread_channel(kind: str, tenant_id: str, env: str, thread_id: str) -> str:
    """The channel of one thread: ``studio:{tenant}:{env}:{kind}:{thread}``. Every part is
    checked, so no name can reach another tenant's channels or read as a pattern."""
    return ":".join(["studio", _checked("tenant", tenant_id), _checked("env", env), _checked("kind", kind),
                     _checked("thread", thread_id)])


def presence_key(tenant_id: str, env: str, thread_id: str) -> str:
    """Who is in a thread, across instances: a sorted set of ``instance|user`` scored by expiry."""
    return thread_channel("presence", tenant_id, env, thread_id)


class Broker(Protocol):
    def publish(self, channel: str, message: bytes) -> None:
        """Best effort and never blocking for long: a hint that cannot be sent is dropped (logged)."""
        ...

    def subscribe(self, channel: str, on_message: OnMessage) -> Watch:
        """Call ``on_message`` (on a background thread) for every later message on ``channel``,
        and with ``RESYNC`` after a reconnect. Returns once the broker confirmed the subscription
        (or after a short timeout when it is down: the caller's safety poll covers that)."""
        ...

    def presence_put(self, key: str, members: Sequence[str], ttl_s: float) -> None:
        """Add or refresh ``members`` of the set ``key``, each living ``ttl_s`` from now."""
        ...

    def presence_remove(self, key: str, members: Sequence[str]) -> None: ...

    def presence_live(self, keys: Sequence[str]) -> list[list[str]]:
        """The members of each set not yet expired (expired ones are pruned), in the order asked."""
        ...

    def close(self) -> None: ...

"""After a commit, chat tells the realtime broker which thread moved (decision 0075).

A hint is ``{tenant, thread, seq}`` (``k`` for a reply's n-th chunk, ``epoch`` when the thread's
history was rewritten) on the thread's broker channel: never the payload of record. The gateway
instances holding the thread read the store from their cursor, so a lost hint only delays
delivery. Without a broker this is a no-op: the gateway follows the store's listeners.
"""
from __future__ import annotations

import json

from studio.chat.paths import REALTIME_KIND
from studio.ports.broker import Broker, thread_channel


class ThreadHints:
    def __init__(self, broker: Broker | None) -> None:
        self._broker = broker

    def moved(self, tenant_id: str, env: str, thread_id: str, seq: int, k: int | None = None) -> None:
        hint: dict[str, object] = {"tenant": tenant_id, "thread": thread_id, "seq": seq}
        if k is not None:
            hint["k"] = k
        self._send(tenant_id, env, thread_id, hint)

    def epoch(self, tenant_id: str, env: str, thread_id: str, epoch: int) -> None:
        self._send(tenant_id, env, thread_id, {"tenant": tenant_id, "thread": thread_id, "epoch": epoch})

    def _send(self, tenant_id: str, env: str, thread_id: str, hint: dict[str, object]) -> None:
        if self._broker is None:
            return
        self._broker.publish(thread_channel(REALTIME_KIND, tenant_id, env, thread_id),
                             json.dumps(hint, separators=(",", ":")).encode())

"""After a commit, chat tells the realtime broker which thread moved, and what to (decisions 0075, 0106).

A hint is ``{tenant, thread, seq}`` (``k`` for a reply's n-th chunk, ``epoch`` when the thread's
history was rewritten) on the thread's broker channel. Since decision 0106 it also carries what was
committed: ``msg``, the message document as written, or ``text``, a chunk's text. A gateway feed
whose cursor is just before that position derives the event from it with the same function a store
read uses, and reads nothing; any other feed (a gap, a reconnect) reads the store from its cursor,
so the store stays the record and a lost or bare hint only delays delivery. A hint whose JSON would
exceed ``MAX_PAYLOAD_BYTES`` goes bare. Without a broker this is a no-op: the gateway follows the
store's listeners.
"""
from __future__ import annotations

import json
from typing import Any

from studio.chat.paths import REALTIME_KIND
from studio.ports.broker import Broker, thread_channel

# Over this a hint goes bare and each feed reads the store (decision 0106): Redis copies a message
# into every subscribing instance's output buffer, and a burst of big ones would cut a slow instance
# off (then every feed it holds reads anyway). Chat messages are almost all far below it.
MAX_PAYLOAD_BYTES = 64 * 1024


class ThreadHints:
    def __init__(self, broker: Broker | None, *, payloads: bool = True) -> None:
        self._broker = broker
        self._payloads = payloads  # False: bare hints only, decision 0075's wake-up (bench/broker_wake.py's baseline)
        self.bare_over_bound = 0  # hints sent without their payload because it was over the bound

    def moved(self, tenant_id: str, env: str, thread_id: str, seq: int, k: int | None = None, *,
              msg: dict[str, Any] | None = None, text: str | None = None) -> None:
        """``msg``: the message document just committed (a user message, a reply's start or end);
        ``text``: chunk ``k``'s text. Either makes the hint carry its event; neither, a bare hint."""
        if self._broker is None:
            return
        hint: dict[str, object] = {"tenant": tenant_id, "thread": thread_id, "seq": seq}
        if k is not None:
            hint["k"] = k
        bare = json.dumps(hint, separators=(",", ":"), ensure_ascii=False)
        if (msg is None and text is None) or not self._payloads:
            self._publish(tenant_id, env, thread_id, bare)
            return
        try:
            full = json.dumps(dict(hint, msg=msg) if msg is not None else dict(hint, text=text),
                              separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):  # a value JSON cannot hold: the feeds read it from the store
            full = bare
        if len(full.encode()) > MAX_PAYLOAD_BYTES:
            self.bare_over_bound += 1
            full = bare
        self._publish(tenant_id, env, thread_id, full)

    def epoch(self, tenant_id: str, env: str, thread_id: str, epoch: int) -> None:
        if self._broker is not None:
            self._publish(tenant_id, env, thread_id, json.dumps(
                {"tenant": tenant_id, "thread": thread_id, "epoch": epoch}, separators=(",", ":")))

    def _publish(self, tenant_id: str, env: str, thread_id: str, hint: str) -> None:
        if self._broker is not None:
            self._broker.publish(thread_channel(REALTIME_KIND, tenant_id, env, thread_id), hint.encode())

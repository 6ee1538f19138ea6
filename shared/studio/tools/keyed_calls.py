"""A keyed tool call outside an HTTP Idempotency-Key request (MCP ``tools/call``, an agent's tool call)
held like one: the kernel's idempotency record (kernel/idempotency.py) is claimed before the tool runs,
and every store transaction of the call commits with its journal (kernel/tx_journal.py).

The invoker's own record of a call (written after the effect) was best effort: two concurrent retries
both missed it and both acted, and a crash between the effect and the record made the retry act again.
Here a concurrent retry is told the key is in use (``IDEMPOTENCY_KEY_IN_USE``, its Retry-After), a retry
after a crash takes the lapsed lease over and replays what the dead attempt committed, and a finished
call's answer, or its refusal, is replayed for 24 h (docs/decisions/0096).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from studio.kernel import crash_hold, errors
from studio.kernel.idempotency import IdempotencyKeys, StoredResponse
from studio.kernel.tx_journal import journaling
from studio.ports.store import DocumentStore


def once(store: DocumentStore, scope: str, key: str, fingerprint: str,
         run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()`` at most once per (scope, key): its result, or the first attempt's replayed."""
    keys = IdempotencyKeys(store)
    held = keys.begin(scope, key[:255], fingerprint)
    if isinstance(held, StoredResponse):
        return _replayed(held)
    try:
        with journaling(held):
            result = run()
        crash_hold.before_reply(key)  # a crash test's kill point; nothing unless the test asks
    except errors.StudioError as exc:  # a refusal is the call's answer too (a 5xx frees the key instead)
        keys.complete(held, StoredResponse(exc.status, {}, json.dumps({"code": exc.code.code, "detail": exc.detail})))
        raise
    except BaseException:
        keys.complete(held, StoredResponse(500, {}, ""))
        raise
    keys.complete(held, StoredResponse(200, {}, json.dumps(result, default=str)))
    return result


def _replayed(stored: StoredResponse) -> dict[str, Any]:
    body = json.loads(stored.body)
    if stored.status >= 400:
        code = errors.registry().get(body.get("code", ""), errors.BAD_REQUEST)
        raise errors.StudioError(code, body.get("detail"), status=stored.status)
    return dict(body, replayed=True)

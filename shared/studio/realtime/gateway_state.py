"""What the gateway's endpoints share within one process: the dependencies, the thread feeds,
presence, the meta channel, and the timing knobs."""
from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from studio.chat import paths
from studio.chat.services import chat_services
from studio.kernel import errors, logs
from studio.kernel.problems import PROBLEM_JSON, problem_body, problem_headers
from studio.ports.store import Filter, Query
from studio.realtime.access import Grant
from studio.realtime.feed import FeedRegistry
from studio.realtime.meta import MetaHub
from studio.realtime.presence import PresenceHub
from studio.realtime.subscriber import DeliveryStats


@dataclass
class GatewayState:
    deps: Any
    heartbeat_s: float = 15.0
    ws_ping_s: float = 20.0
    ws_idle_s: float = 60.0
    feeds: FeedRegistry = field(init=False)
    presence: PresenceHub = field(default_factory=PresenceHub)
    deliveries: DeliveryStats = field(default_factory=DeliveryStats)
    _meta: MetaHub | None = None
    _meta_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.feeds = FeedRegistry(self.deps.store)

    def meta_hub(self, loop: asyncio.AbstractEventLoop) -> MetaHub:
        """One per process. Blocking (it declares a bus subscription): call it off the event loop."""
        with self._meta_lock:
            if self._meta is None:
                self._meta = MetaHub(self.deps.bus, loop)
            return self._meta

    def live_floor(self, grant: Grant) -> int:
        """Where a client that sends no cursor starts: now, but with any reply still streaming."""
        store = self.deps.store
        streaming = store.query(Query(paths.messages(grant.tenant_id, grant.env, grant.thread_id),
                                      [Filter("status", "==", "streaming")], [("seq", "asc")], 1)).docs
        if streaming:
            return int(streaming[0].data["seq"]) - 1
        counter = store.get(paths.counter(grant.tenant_id, grant.env, grant.thread_id))
        return int(counter.data["last_seq"]) if counter else 0

    def post(self, grant: Grant, text: str, client_id: Any) -> dict[str, Any]:
        services = chat_services(self.deps)
        thread = services.threads.get_doc(_ctx(grant), grant.thread_id)
        client_id = client_id[:100] if isinstance(client_id, str) else None  # as the REST route bounds it
        return services.messages.post_user(grant.tenant_id, grant.env, grant.thread_id, grant.user_id, text,
                                           client_id, thread.data["agent_id"])

    def close(self) -> None:
        if self._meta is not None:
            self._meta.close()


async def next_or_none(queue: asyncio.Queue[Any], timeout: float) -> Any:
    """The next queued item, or None after ``timeout`` (the meta channel's streams; thread streams
    wait in Subscriber.next). No task per item, as asyncio.wait_for would make."""
    try:
        return queue.get_nowait()
    except asyncio.QueueEmpty:
        try:
            async with asyncio.timeout(timeout):
                return await queue.get()
        except TimeoutError:
            return None


def _ctx(grant: Grant) -> Any:
    from studio.kernel.context import Principal, RequestContext

    return RequestContext(grant.tenant_id, grant.env, Principal(grant.user_id), grant.role)


def problem(err: errors.StudioError, path: str) -> Response:
    headers = problem_headers(err)
    body = problem_body(err, instance=path, request_id=logs.request_id_var.get())  # set by kernel/asgi_edge
    return Response(json.dumps(body), status_code=err.status,
                    media_type=PROBLEM_JSON, headers=headers)

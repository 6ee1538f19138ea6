"""What the gateway's endpoints share within one process: the dependencies, the thread channels
and their feeds, the kernel app their sends go through, the open streams, presence, the meta
channel, and the timing knobs."""
from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response
from werkzeug.wrappers import Request as WsgiRequest
from werkzeug.wrappers import Response as WsgiResponse

from studio.kernel import errors, logs
from studio.kernel.deps import Deps
from studio.kernel.problems import PROBLEM_JSON, problem_body, problem_headers
from studio.ports.store import Filter, Query
from studio.realtime.access import Grant
from studio.realtime.broker_feed import BrokerFeeds, BrokerThreadFeed
from studio.realtime.broker_presence import BrokerPresenceLink
from studio.realtime.channels import ThreadChannel
from studio.realtime.feed import FeedRegistry, OpenFeed
from studio.realtime.fleet_presence import PresenceLink
from studio.realtime.heap_policy import HeapPolicy, NoPolicy
from studio.realtime.meta import MetaHub
from studio.realtime.presence import PresenceHub
from studio.realtime.streams import OpenStreams
from studio.realtime.subscriber import DeliveryStats

# The kernel's HTTP pipeline (an ``HttpApp``) serving the channels' send routes.
Dispatch = Callable[[WsgiRequest], WsgiResponse]


@dataclass
class GatewayState:
    deps: Deps
    channels: tuple[ThreadChannel, ...] = ()
    dispatch: Dispatch | None = None
    heartbeat_s: float = 15.0
    ws_ping_s: float = 20.0
    ws_idle_s: float = 60.0
    streams_per_user: int = 20
    feeds: dict[str, FeedRegistry] = field(init=False)
    streams: OpenStreams = field(init=False)
    presence: PresenceHub = field(default_factory=PresenceHub)
    deliveries: DeliveryStats = field(default_factory=DeliveryStats)
    _meta: MetaHub | None = None
    _meta_lock: threading.Lock = field(default_factory=threading.Lock)
    _presence_link: PresenceLink | BrokerPresenceLink | None = None
    broker_feeds: BrokerFeeds | None = None
    heap: HeapPolicy | NoPolicy | None = None  # set where a gateway process starts (start_heap_policy)

    def __post_init__(self) -> None:
        broker = self.deps.broker
        open_feed: OpenFeed | None = None
        if broker is not None:  # decision 0075: feeds woken by the thread's broker channel
            hub = self.broker_feeds = BrokerFeeds(broker, self.deps.store,
                                                  safety_poll_s=self.deps.settings.broker_safety_poll_s)
            open_feed = lambda channel, key, loop: BrokerThreadFeed(hub, channel, key, loop)  # noqa: E731
        self.feeds = {channel.kind: FeedRegistry(self.deps.store, channel, open_feed) for channel in self.channels}
        self.streams = OpenStreams(self.streams_per_user, self.deps.sessions)

    def start_heap_policy(self) -> HeapPolicy | NoPolicy:
        """Once per process, where the gateway's process starts (Cloud Run's infra/realtime/main.py,
        the local runtime's main): the collector's settings are the process's, not one app's, so an
        app built in a test process leaves them alone (decision 0104)."""
        s = self.deps.settings
        if self.heap is None:
            self.heap = (HeapPolicy(self.streams, freeze_after=s.gateway_gc_freeze_after).start()
                         if s.gateway_gc == "freeze" else NoPolicy())
        return self.heap

    def open_feeds(self) -> int:
        return sum(registry.open_feeds() for registry in self.feeds.values())

    def meta_hub(self, loop: asyncio.AbstractEventLoop) -> MetaHub:
        """One per process. Blocking (it declares a bus subscription): call it off the event loop."""
        with self._meta_lock:
            if self._meta is None:
                self._meta = MetaHub(self.deps.bus, loop)
            return self._meta

    def join_fleet_presence(self, loop: asyncio.AbstractEventLoop) -> None:
        """With ``fleet_presence`` on, link this instance's presence to the others' (once per process).
        Blocking (it declares a bus subscription): call it off the event loop."""
        if not self.deps.settings.fleet_presence or self._presence_link is not None:
            return
        with self._meta_lock:
            if self._presence_link is None:
                broker = self.deps.broker
                link: PresenceLink | BrokerPresenceLink
                if broker is not None:  # decision 0076: keys with a TTL on the broker, not bus rosters
                    link = BrokerPresenceLink(broker, loop, self.presence.apply, self.presence.roster,
                                              heartbeat_s=self.deps.settings.presence_heartbeat_s)
                else:
                    link = PresenceLink(self.deps.bus, loop, self.presence.apply, self.presence.roster,
                                        heartbeat_s=self.deps.settings.presence_heartbeat_s)
                self.presence.link = link
                self._presence_link = link

    def live_floor(self, channel: ThreadChannel, grant: Grant) -> int:
        """Where a client that sends no cursor starts: now, but with any reply still streaming."""
        store = self.deps.store
        streaming = store.query(Query(channel.messages(grant.tenant_id, grant.env, grant.thread_id),
                                      [Filter("status", "==", "streaming")], [("seq", "asc")], 1)).docs
        if streaming:
            return int(streaming[0].data["seq"]) - 1
        counter = store.get(channel.counter(grant.tenant_id, grant.env, grant.thread_id))
        return int(counter.data["last_seq"]) if counter else 0

    def close(self) -> None:
        if self._meta is not None:
            self._meta.close()
        if self._presence_link is not None:
            self._presence_link.close()
        if self.broker_feeds is not None:
            self.broker_feeds.close()
        self.streams.close()
        if self.heap is not None:
            self.heap.stop()


async def next_or_none(queue: asyncio.Queue[Any], timeout: float) -> Any:
    """The next queued item, or None after ``timeout`` (the meta channel's streams; thread streams
    wait in Subscriber.next_item). No task per item, as asyncio.wait_for would make."""
    try:
        return queue.get_nowait()
    except asyncio.QueueEmpty:
        try:
            async with asyncio.timeout(timeout):
                return await queue.get()
        except TimeoutError:
            return None


def problem(err: errors.StudioError, path: str, request_id: str | None = None) -> Response:
    """The gateway's own refusals, in the kernel's problem+json shape, with a request id."""
    request_id = request_id or logs.new_request_id(None)
    headers = {**problem_headers(err), "X-Request-Id": request_id}
    return Response(json.dumps(problem_body(err, instance=path, request_id=request_id)), status_code=err.status,
                    media_type=PROBLEM_JSON, headers=headers)

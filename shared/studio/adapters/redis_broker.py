"""The realtime broker on Redis or Valkey (Memorystore deployed; Debian's redis-server in the tests):
pub/sub channels for the wake-up hints, sorted sets scored by expiry for presence
(docs/decisions/0075-realtime-broker.md, 0076-presence-on-the-broker.md).

One connection per process subscribes to every channel this process follows; one reader thread
owns it, so subscriptions are handed to that thread and applied between reads. When the connection
breaks (a failover, a restart) the reader reconnects with backoff, subscribes again to everything,
and hands every subscriber ``RESYNC``: whatever was published meanwhile is gone, and they read the
store. Publishing goes through a pooled client with short timeouts and a one-second circuit
breaker, so a dead broker costs a chat write at most one short timeout per second, never an error.
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from studio.kernel import logs
from studio.ports.broker import RESYNC, OnMessage

_log = logs.get("studio.adapters.redis_broker")
_READ_S = 0.05  # how long the reader waits on the socket before applying queued (un)subscriptions
_CONFIRM_S = 2.0  # how long subscribe() waits for the broker's confirmation


class _Subscription:
    def __init__(self, broker: RedisBroker, channel: str, on_message: OnMessage) -> None:
        self._broker = broker
        self.channel = channel
        self.on_message = on_message
        self.confirmed = threading.Event()

    def close(self) -> None:
        self._broker._drop(self)


class RedisBroker:
    def __init__(self, url: str, *, timeout_s: float = 0.5, breaker_s: float = 1.0, ca_pem: str = "") -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._redis = redis
        self.url = url
        options: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s,
                                   "retry": Retry(NoBackoff(), 0), "health_check_interval": 10}
        if url.startswith("rediss://"):  # TLS (Memorystore's SERVER_AUTHENTICATION): verify against its CA
            options["ssl_cert_reqs"] = "required"
            if ca_pem:
                options["ssl_ca_data"] = ca_pem
        self._client = redis.Redis.from_url(url, **options)
        self._sub_client = redis.Redis.from_url(url, **options)
        self._breaker_s = breaker_s
        self._open_until = 0.0  # publishes are skipped until then, after a failure
        self._subs: dict[str, set[_Subscription]] = {}
        self._lock = threading.Lock()
        self._ops: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._closed = threading.Event()
        self.connected = threading.Event()
        self.connections = 0  # successful (re)connections of the subscribing connection
        self.publish_failures = 0
        self._reader = threading.Thread(target=self._read_loop, name="broker-reader", daemon=True)
        self._reader.start()

    # -- publishing -----------------------------------------------------------------
    def publish(self, channel: str, message: bytes) -> None:
        if time.monotonic() < self._open_until:
            self.publish_failures += 1
            return
        try:
            self._client.publish(channel, message)
        except (self._redis.RedisError, OSError) as exc:
            self.publish_failures += 1
            self._open_until = time.monotonic() + self._breaker_s
            _log.warning("broker publish dropped", extra={"fields": {"error": type(exc).__name__}})

    # -- subscribing ----------------------------------------------------------------
    def subscribe(self, channel: str, on_message: OnMessage) -> _Subscription:
        sub = _Subscription(self, channel, on_message)
        with self._lock:
            group = self._subs.setdefault(channel, set())
            first = not group
            group.add(sub)
        if first:
            self._ops.put(("subscribe", channel))
            sub.confirmed.wait(_CONFIRM_S)  # a down broker: go on, the caller's safety poll covers it
        else:
            sub.confirmed.set()
        return sub

    def _drop(self, sub: _Subscription) -> None:
        with self._lock:
            group = self._subs.get(sub.channel)
            if group is None or sub not in group:
                return
            group.discard(sub)
            if group:
                return
            del self._subs[sub.channel]
        self._ops.put(("unsubscribe", sub.channel))

    def _read_loop(self) -> None:
        backoff = 0.1
        while not self._closed.is_set():
            pubsub: Any = self._sub_client.pubsub()  # type: ignore[no-untyped-call]
            try:
                self._connect(pubsub)
                backoff = 0.1
                while not self._closed.is_set():
                    self._apply_ops(pubsub)
                    message = pubsub.get_message(timeout=_READ_S)
                    if message is not None:
                        self._dispatch(message)
            except (self._redis.RedisError, OSError) as exc:
                if self.connected.is_set():
                    _log.warning("broker connection lost", extra={"fields": {"error": type(exc).__name__}})
                self.connected.clear()
                self._closed.wait(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection may fail too
                    pubsub.close()

    def _connect(self, pubsub: Any) -> None:
        """(Re)subscribe to every followed channel, then tell every subscriber to resync: the
        hints published while the connection was down are gone."""
        while True:  # drain ops queued before this connection: the channel list below is the truth
            try:
                self._ops.get_nowait()
            except queue.Empty:
                break
        with self._lock:
            channels = list(self._subs)
        pubsub.ping()  # connects, or raises
        if channels:
            pubsub.subscribe(*channels)
            pending, deadline = set(channels), time.monotonic() + _CONFIRM_S
            while pending and time.monotonic() < deadline:  # resync only once the broker holds them all
                message = pubsub.get_message(timeout=_READ_S)
                if message is None:
                    continue
                if message.get("type") == "subscribe":
                    channel = message.get("channel")
                    pending.discard(channel.decode() if isinstance(channel, bytes) else str(channel))
                self._dispatch(message)
        self.connected.set()
        self.connections += 1
        if channels:
            with self._lock:
                subs = [s for group in self._subs.values() for s in group]
            for sub in subs:
                self._call(sub, RESYNC)

    def _apply_ops(self, pubsub: Any) -> None:
        while True:
            try:
                op, channel = self._ops.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                wanted = bool(self._subs.get(channel))
            if op == "subscribe" and wanted:
                pubsub.subscribe(channel)
            elif op == "unsubscribe" and not wanted:
                pubsub.unsubscribe(channel)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = message.get("channel")
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        with self._lock:
            subs = list(self._subs.get(name, ()))
        if kind == "subscribe":
            for sub in subs:
                sub.confirmed.set()
        elif kind == "message":
            data = message.get("data")
            payload = data if isinstance(data, bytes) else str(data).encode()
            for sub in subs:
                self._call(sub, payload or b"{}")  # an empty payload would read as RESYNC

    @staticmethod
    def _call(sub: _Subscription, payload: bytes) -> None:
        try:
            sub.on_message(payload)
        except Exception:  # noqa: BLE001 - the reader must outlive a subscriber's bug
            _log.exception("broker subscriber failed")

    # -- presence: sorted sets scored by expiry (ms since the epoch) ----------------------
    def presence_put(self, key: str, members: Sequence[str], ttl_s: float) -> None:
        if not members:
            return
        expiry = int((time.time() + ttl_s) * 1000)
        pipe = self._client.pipeline(transaction=False)
        pipe.zadd(key, dict.fromkeys(members, expiry))
        pipe.pexpire(key, int(ttl_s * 1000) + 1000)  # the whole set goes once every member has
        pipe.execute()

    def presence_remove(self, key: str, members: Sequence[str]) -> None:
        if members:
            self._client.zrem(key, *members)

    def presence_live(self, keys: Sequence[str]) -> list[list[str]]:
        if not keys:
            return []
        now = int(time.time() * 1000)
        pipe = self._client.pipeline(transaction=False)
        for key in keys:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zrangebyscore(key, now, "+inf")
        results = pipe.execute()
        return [[m.decode() if isinstance(m, bytes) else str(m) for m in results[i * 2 + 1]] for i in range(len(keys))]

    def close(self) -> None:
        self._closed.set()
        self._reader.join(timeout=2)
        self._client.close()
        self._sub_client.close()

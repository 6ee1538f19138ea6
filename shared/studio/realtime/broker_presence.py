"""Presence and typing across gateway instances on the realtime broker (decision 0076), in place of
the bus rosters of decision 0072 when a broker is configured.

Who is in a thread lives in one broker key per thread: a sorted set of ``instance|user`` scored by
expiry. Every heartbeat each instance refreshes its own members of the threads it holds (expiry =
now + 3 heartbeats) and reads those threads' live members; joins, leaves and typing also go out at
once on the thread's presence channel, which only the instances holding that thread subscribe to.
So an instance hears about the threads its clients are in, not the whole fleet's rosters.

**Expiry**: a dead instance stops refreshing; its members fall out of every set 3 heartbeats after
its last refresh, and the others, reading at their next heartbeat, tell their clients those users
left: within 3-4 heartbeats (15-20 s at the default 5 s). A closing instance removes its members at
once. Typing from a dead instance is not retracted (clients time typing out).
"""
from __future__ import annotations

import asyncio
import json
import queue
import threading
import uuid
from collections.abc import Callable
from typing import Any

from studio.kernel import logs
from studio.ports.broker import RESYNC, Broker, presence_key
from studio.ports.store import Watch

_log = logs.get("studio.realtime.broker_presence")

Key = tuple[str, str, str]
Apply = Callable[[str, dict[str, Any]], None]


class BrokerPresenceLink:
    def __init__(self, broker: Broker, loop: asyncio.AbstractEventLoop, apply: Apply,
                 roster: Callable[[], list[list[Any]]], *, heartbeat_s: float = 5.0,
                 instance: str | None = None) -> None:
        self.instance = instance or uuid.uuid4().hex[:12]
        self.heartbeat_s = heartbeat_s
        self.expire_s = 3 * heartbeat_s
        self._broker = broker
        self._loop = loop
        self._apply = apply
        self._roster = roster  # called on the event loop (the hub's rooms live there)
        self._out: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._subs: dict[Key, Watch] = {}
        self._mine: dict[Key, set[str]] = {}  # this instance's users, as last written to the broker
        self._view: dict[Key, dict[str, set[str]]] = {}  # the others' users by thread, then instance
        self._known: set[str] = set()  # instances this link told the hub about
        self._threads = [threading.Thread(target=self._send_loop, name="presence-send", daemon=True),
                         threading.Thread(target=self._beat_loop, name="presence-beat", daemon=True)]
        for thread in self._threads:
            thread.start()

    # -- from the event loop ---------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        """Never blocks: the sender thread writes the key and publishes."""
        self._out.put({**message, "instance": self.instance})

    # -- the sender thread ------------------------------------------------------------------
    def _send_loop(self) -> None:
        while (message := self._out.get()) is not None:
            try:
                self._send_now(message)
            except Exception:  # noqa: BLE001 - best effort: the next heartbeat repairs the keys
                _log.exception("presence write failed")

    def _send_now(self, message: dict[str, Any]) -> None:
        key: Key = (str(message["tenant_id"]), str(message["env"]), str(message["thread_id"]))
        name = presence_key(*key)
        member = f"{self.instance}|{message['user_id']}"
        if message["kind"] == "join":
            self._follow(key)
            with self._lock:
                self._mine.setdefault(key, set()).add(str(message["user_id"]))
            self._broker.presence_put(name, [member], self.expire_s)
            self._refresh([key])  # who is already here, before the next heartbeat
        elif message["kind"] == "leave":
            with self._lock:
                self._mine.get(key, set()).discard(str(message["user_id"]))
            self._broker.presence_remove(name, [member])
        self._broker.publish(name, json.dumps(message, allow_nan=False).encode())

    def _follow(self, key: Key) -> None:
        with self._lock:
            if key in self._subs:
                return
        watch = self._broker.subscribe(presence_key(*key), lambda payload: self._on_message(key, payload))
        with self._lock:
            if key in self._subs:
                watch.close()
            else:
                self._subs[key] = watch

    # -- the broker's reader thread ---------------------------------------------------------
    def _on_message(self, key: Key, payload: bytes) -> None:
        if payload == RESYNC:
            return  # the broker reconnected: the next heartbeat rewrites and rereads every held thread
        try:
            message = json.loads(payload)
            instance = str(message["instance"])
            same = (message["tenant_id"], message["env"], message["thread_id"]) == key
        except (ValueError, KeyError, TypeError):
            return
        if instance != self.instance and same:
            self._loop.call_soon_threadsafe(self._apply, instance, message)

    # -- the heartbeat ----------------------------------------------------------------------
    def _beat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            future = asyncio.run_coroutine_threadsafe(self._roster_now(), self._loop)
            try:
                rooms = future.result(timeout=self.heartbeat_s)
            except Exception:  # noqa: BLE001 - loop closing or busy: the next beat retries
                continue
            try:
                self._beat(rooms)
            except Exception:  # noqa: BLE001 - the broker is down: the next beat retries
                _log.warning("presence heartbeat failed")
            self._loop.call_soon_threadsafe(self._apply, self.instance, {"kind": "tick"})

    async def _roster_now(self) -> list[list[Any]]:
        return self._roster()

    def _beat(self, rooms: list[list[Any]]) -> None:
        held: dict[Key, set[str]] = {(str(r[0]), str(r[1]), str(r[2])): {str(u) for u in r[3]} for r in rooms}
        for key, users in held.items():
            self._follow(key)
            self._broker.presence_put(presence_key(*key), [f"{self.instance}|{u}" for u in sorted(users)],
                                      self.expire_s)
        with self._lock:
            self._mine = held
            gone = [(key, self._subs.pop(key)) for key in list(self._subs) if key not in held]
            for key, _ in gone:
                self._view.pop(key, None)
        for _, watch in gone:
            watch.close()
        self._refresh(list(held))

    def _refresh(self, keys: list[Key]) -> None:
        """Read the live members of ``keys``, then hand the hub every other instance's whole roster."""
        live = self._broker.presence_live([presence_key(*key) for key in keys])
        with self._lock:
            for key, members in zip(keys, live, strict=True):
                by_instance: dict[str, set[str]] = {}
                for member in members:
                    instance, _, user = member.partition("|")
                    if instance != self.instance and user:
                        by_instance.setdefault(instance, set()).add(user)
                self._view[key] = by_instance
            rosters: dict[str, list[list[Any]]] = {}
            for key, by_instance in self._view.items():
                for instance, users in by_instance.items():
                    rosters.setdefault(instance, []).append([*key, sorted(users)])
            told = set(rosters) | self._known
            self._known = set(rosters)
        for instance in sorted(told):  # an instance gone from every set gets an empty roster: its users leave
            self._loop.call_soon_threadsafe(self._apply, instance, {"kind": "roster", "rooms": rosters.get(instance, [])})

    def close(self) -> None:
        self._stop.set()
        self._out.put(None)
        for thread in self._threads:
            thread.join(timeout=2)
        with self._lock:
            mine, subs = dict(self._mine), list(self._subs.values())
            self._subs.clear()
        try:  # leave at once rather than after 3 heartbeats
            for key, users in mine.items():
                self._broker.presence_remove(presence_key(*key), [f"{self.instance}|{u}" for u in users])
                for user in users:
                    self._broker.publish(presence_key(*key), json.dumps(
                        {"kind": "leave", "tenant_id": key[0], "env": key[1], "thread_id": key[2], "user_id": user,
                         "instance": self.instance}).encode())
        except Exception:  # noqa: BLE001 - the broker is down: the members expire by themselves
            _log.warning("presence close could not remove this instance's members")
        for watch in subs:
            watch.close()

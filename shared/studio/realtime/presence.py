"""Who is in a thread, and who is typing: signals between live connections. Never persisted.
With a link (fleet_presence.py) the other instances' clients count too: their joins, leaves and
typing arrive from the link, and an instance silent for the link's ``expire_s`` stops counting."""
from __future__ import annotations

import time
from collections import Counter
from typing import Any, Protocol

from studio.realtime.subscriber import Subscriber

Key = tuple[str, str, str]


class Link(Protocol):
    expire_s: float

    def send(self, message: dict[str, Any]) -> None: ...


class PresenceHub:
    def __init__(self) -> None:
        self._rooms: dict[Key, dict[int, tuple[str, Subscriber]]] = {}
        self.link: Link | None = None
        self._remote: dict[str, dict[Key, set[str]]] = {}  # other instances' users, by instance
        self._heard: dict[str, float] = {}  # when each other instance was last heard from

    def _local_users(self, key: Key) -> set[str]:
        return {user for user, _ in self._rooms.get(key, {}).values()}

    def _all_users(self, key: Key) -> set[str]:
        users = self._local_users(key)
        for rooms in self._remote.values():
            users |= rooms.get(key, set())
        return users

    def users(self, key: Key) -> list[str]:
        return sorted(self._all_users(key))

    def roster(self) -> list[list[Any]]:
        """This instance's users by thread, for the link's heartbeat."""
        return [[*key, sorted(self._local_users(key))] for key in self._rooms]

    def apply(self, instance: str, message: dict[str, Any]) -> None:
        """A message from another instance (on the event loop); ``tick`` is this link's own clock."""
        kind = message.get("kind")
        if kind == "tick":
            self._expire(time.monotonic())
            return
        self._heard[instance] = time.monotonic()
        rooms = self._remote.setdefault(instance, {})
        if kind == "roster":
            fresh: dict[Key, set[str]] = {}
            for row in message.get("rooms", []):
                fresh[(str(row[0]), str(row[1]), str(row[2]))] = {str(u) for u in row[3]}
            self._replace(instance, fresh)
            return
        try:
            key = (str(message["tenant_id"]), str(message["env"]), str(message["thread_id"]))
            user = str(message["user_id"])
        except KeyError:
            return
        if kind == "join":
            before = self._all_users(key)
            rooms.setdefault(key, set()).add(user)
            if user not in before:
                self._broadcast(key, _signal("presence.join", key, {"user_id": user}))
        elif kind == "leave":
            rooms.get(key, set()).discard(user)
            if user not in self._all_users(key):
                self._broadcast(key, _signal("presence.leave", key, {"user_id": user}))
        elif kind == "typing":
            self._broadcast(key, _signal("typing", key, {"user_id": user, "active": bool(message.get("active"))}))

    def _replace(self, instance: str, fresh: dict[Key, set[str]]) -> None:
        old = self._remote.get(instance, {})
        keys = set(old) | set(fresh)
        before = {key: self._all_users(key) for key in keys}
        if fresh:
            self._remote[instance] = fresh
        else:
            self._remote.pop(instance, None)
        for key in keys:
            after = self._all_users(key)
            for user in sorted(after - before[key]):
                self._broadcast(key, _signal("presence.join", key, {"user_id": user}))
            for user in sorted(before[key] - after):
                self._broadcast(key, _signal("presence.leave", key, {"user_id": user}))

    def _expire(self, now: float) -> None:
        if self.link is None:
            return
        for instance, heard in list(self._heard.items()):
            if now - heard > self.link.expire_s:
                del self._heard[instance]
                self._replace(instance, {})  # its clients stop counting: their users leave

    def _broadcast(self, key: Key, frame: dict[str, Any], *, skip: int | None = None) -> None:
        for conn_id, (_, subscriber) in self._rooms.get(key, {}).items():
            if conn_id != skip:
                subscriber.signal(frame)

    def join(self, key: Key, conn_id: int, user_id: str, subscriber: Subscriber) -> bool:
        """True when the user was not here before (a join others are told about)."""
        room = self._rooms.setdefault(key, {})
        first = user_id not in {u for u, _ in room.values()}
        elsewhere = user_id in self._all_users(key)
        room[conn_id] = (user_id, subscriber)
        if first and self.link is not None:
            self.link.send({"kind": "join", "tenant_id": key[0], "env": key[1], "thread_id": key[2],
                            "user_id": user_id})
        if first and not elsewhere:
            self._broadcast(key, _signal("presence.join", key, {"user_id": user_id}), skip=conn_id)
        return first

    def leave(self, key: Key, conn_id: int) -> None:
        room = self._rooms.get(key, {})
        entry = room.pop(conn_id, None)
        if entry is None:
            return
        if entry[0] not in Counter(u for u, _ in room.values()):
            if self.link is not None:
                self.link.send({"kind": "leave", "tenant_id": key[0], "env": key[1], "thread_id": key[2],
                                "user_id": entry[0]})
            if entry[0] not in self._all_users(key):
                self._broadcast(key, _signal("presence.leave", key, {"user_id": entry[0]}))
        if not room:
            self._rooms.pop(key, None)

    def typing(self, key: Key, conn_id: int, user_id: str, active: bool) -> None:
        self._broadcast(key, _signal("typing", key, {"user_id": user_id, "active": active}), skip=conn_id)
        if self.link is not None:
            self.link.send({"kind": "typing", "tenant_id": key[0], "env": key[1], "thread_id": key[2],
                            "user_id": user_id, "active": active})


def _signal(kind: str, key: Key, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "thread_id": key[2], "seq": None, "epoch": None, "data": data}

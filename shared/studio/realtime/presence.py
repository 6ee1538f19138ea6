"""Who is in a thread, and who is typing: signals between live connections of this gateway
instance. Never persisted. (Across instances they travel on the meta channel.)"""
from __future__ import annotations

from collections import Counter
from typing import Any

from studio.realtime.subscriber import Subscriber

Key = tuple[str, str, str]


class PresenceHub:
    def __init__(self) -> None:
        self._rooms: dict[Key, dict[int, tuple[str, Subscriber]]] = {}

    def users(self, key: Key) -> list[str]:
        return sorted({user for user, _ in self._rooms.get(key, {}).values()})

    def _broadcast(self, key: Key, frame: dict[str, Any], *, skip: int | None = None) -> None:
        for conn_id, (_, subscriber) in self._rooms.get(key, {}).items():
            if conn_id != skip:
                subscriber.signal(frame)

    def join(self, key: Key, conn_id: int, user_id: str, subscriber: Subscriber) -> bool:
        """True when the user was not here before (a join others are told about)."""
        room = self._rooms.setdefault(key, {})
        first = user_id not in {u for u, _ in room.values()}
        room[conn_id] = (user_id, subscriber)
        if first:
            self._broadcast(key, _signal("presence.join", key, {"user_id": user_id}), skip=conn_id)
        return first

    def leave(self, key: Key, conn_id: int) -> None:
        room = self._rooms.get(key, {})
        entry = room.pop(conn_id, None)
        if entry is None:
            return
        if entry[0] not in Counter(u for u, _ in room.values()):
            self._broadcast(key, _signal("presence.leave", key, {"user_id": entry[0]}))
        if not room:
            self._rooms.pop(key, None)

    def typing(self, key: Key, conn_id: int, user_id: str, active: bool) -> None:
        self._broadcast(key, _signal("typing", key, {"user_id": user_id, "active": active}), skip=conn_id)


def _signal(kind: str, key: Key, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "thread_id": key[2], "seq": None, "epoch": None, "data": data}

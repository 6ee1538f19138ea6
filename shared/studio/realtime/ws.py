"""WebSocket ``/ws/chat/{thread_id}``: frames ``{type, thread_id, seq, epoch, data, cursor}``.

Connect with ``?ticket=`` (browsers) or bearer + tenant headers; resume with ``?cursor=``
(or ``?seq=``) and ``?epoch=``, or later with a ``{"type": "resume"}`` frame. A refused
caller is closed before the handshake completes: no data. Client frames: ``ping``,
``typing`` {active}, ``send`` {text, client_id}, ``resume`` {cursor|seq, epoch}.
"""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from starlette.websockets import WebSocket, WebSocketDisconnect

from studio.kernel import errors
from studio.kernel.roles import Role
from studio.realtime import events as ev
from studio.realtime.access import META, authorize, recheck
from studio.realtime.cursor import Cursor
from studio.realtime.gateway_state import GatewayState
from studio.realtime.server_send import server_send
from studio.realtime.sse import start_cursor
from studio.realtime.subscriber import ClientGone, Subscriber

CLOSE_EPOCH, CLOSE_IDLE, CLOSE_POLICY = 4409, 4408, 4400
_conn_ids = itertools.count(1)


def _close_code(err: errors.StudioError) -> int:
    return 4000 + err.status if 400 <= err.status < 500 else 1011


def _text(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "websocket.send", "text": json.dumps(frame, separators=(",", ":"), ensure_ascii=False)}


def _event_text(event: ev.ThreadEvent, cursor: str) -> dict[str, Any]:
    return event.rendered("ws", cursor, lambda: {"type": "websocket.send", "text": event.encoded(cursor)})


@dataclass(frozen=True)
class _Resume:
    """A client's resume frame, handed to the writer so replay and live events never interleave."""

    cursor: Cursor


async def chat_socket(websocket: WebSocket) -> None:
    state: GatewayState = websocket.app.state.gateway
    thread_id = websocket.path_params["thread_id"]
    q = websocket.query_params
    try:
        grant = await to_thread.run_sync(lambda: authorize(
            state.deps, thread_id=thread_id, ticket=q.get("ticket"), headers=websocket.headers))
        floor = await to_thread.run_sync(lambda: state.live_floor(grant))
        cursor = start_cursor(q.get("cursor"), q.get("seq"), floor)
    except errors.StudioError as err:
        await websocket.close(code=_close_code(err), reason=err.code.code)
        return
    key = (grant.tenant_id, grant.env, thread_id)
    conn_id = next(_conn_ids)

    def ping() -> dict[str, Any]:  # only once subscribed: ``feed`` is bound below
        return _text({"type": "ping", "thread_id": thread_id, "seq": None, "epoch": feed.epoch, "data": {}})

    # Frames of the open socket go through the server's send, past Starlette's wrappers (server_send.py).
    subscriber = Subscriber(cursor, _event_text, ping, state.ws_ping_s, state.deliveries,
                            send=server_send(websocket.scope))
    loop = asyncio.get_running_loop()
    try:
        feed, unsubscribe = await to_thread.run_sync(lambda: state.feeds.subscribe(key, subscriber, loop))
    except errors.StudioError as err:
        await websocket.close(code=_close_code(err), reason=err.code.code)
        return
    try:
        try:
            await websocket.accept()
        except OSError:  # gone during the handshake (the server's send raises OSError, per ASGI)
            return
        state.presence.join(key, conn_id, grant.user_id, subscriber)
        await websocket.send_json({"type": "hello", "thread_id": thread_id, "seq": cursor.floor, "epoch": feed.epoch,
                                   "cursor": str(cursor), "data": {"user_id": grant.user_id,
                                                                   "presence": state.presence.users(key)}})
        if q.get("epoch") is not None and q.get("epoch") != str(feed.epoch):
            await _epoch_changed(websocket, subscriber, thread_id, feed.epoch)
            return
        await _replay(state, grant, subscriber)
        await _pump(websocket, state, grant, key, conn_id, subscriber, feed)
    except (WebSocketDisconnect, ClientGone):
        pass
    finally:
        subscriber.close()
        state.presence.leave(key, conn_id)
        unsubscribe()


async def _close(websocket: WebSocket, subscriber: Subscriber, code: int, reason: str = "") -> None:
    subscriber.close()  # the fan-out writes nothing after the server's goodbye
    await websocket.close(code=code, reason=reason)


async def _epoch_changed(websocket: WebSocket, subscriber: Subscriber, thread_id: str, epoch: int) -> None:
    await websocket.send_json({"type": ev.EPOCH_CHANGED, "thread_id": thread_id, "seq": None, "epoch": epoch,
                               "data": {"epoch": epoch, "reload": True}})
    await _close(websocket, subscriber, CLOSE_EPOCH)


async def _replay(state: GatewayState, grant: Any, subscriber: Subscriber) -> None:
    cursor = subscriber.cursor
    backlog = await to_thread.run_sync(
        lambda: ev.backfill(state.deps.store, grant.tenant_id, grant.env, grant.thread_id, cursor))
    for event in backlog:
        await subscriber.write_event(event)


async def _pump(websocket: WebSocket, state: GatewayState, grant: Any, key: tuple[str, str, str], conn_id: int,
                subscriber: Subscriber, feed: Any) -> None:
    async def writer() -> None:
        while True:
            item = await subscriber.next()
            if item is None:  # upkeep: may the client still listen?
                try:
                    await to_thread.run_sync(lambda: recheck(state.deps, grant))
                except errors.StudioError as err:
                    await _close(websocket, subscriber, _close_code(err), err.code.code)
                    return
            elif isinstance(item, dict):  # presence and typing signals
                await subscriber.send(_text(item))
            elif isinstance(item, _Resume):
                subscriber.cursor.floor, subscriber.cursor.states = item.cursor.floor, item.cursor.states
                await _replay(state, grant, subscriber)
            elif item.type == ev.EPOCH_CHANGED:
                await _epoch_changed(websocket, subscriber, grant.thread_id, item.epoch)
                return
            else:
                await subscriber.write_event(item)

    async def reader() -> None:
        while True:
            try:
                async with asyncio.timeout(state.ws_idle_s):
                    frame = await websocket.receive_json()
            except TimeoutError:
                await _close(websocket, subscriber, CLOSE_IDLE, "idle")
                return
            except (ValueError, KeyError):
                await _close(websocket, subscriber, CLOSE_POLICY, "frames are JSON objects")
                return
            if not await _on_frame(websocket, state, grant, key, conn_id, frame, subscriber, feed):
                return

    tasks = [asyncio.create_task(writer()), asyncio.create_task(reader())]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | ClientGone):
                raise exc
    finally:
        for task in tasks:
            task.cancel()


async def _on_frame(websocket: WebSocket, state: GatewayState, grant: Any, key: tuple[str, str, str],
                    conn_id: int, frame: Any, subscriber: Subscriber, feed: Any) -> bool:
    """Handle one client frame; False once the socket is closed."""
    kind = frame.get("type") if isinstance(frame, dict) else None
    if kind == "ping":
        await websocket.send_json({"type": "pong", "thread_id": grant.thread_id, "seq": None, "epoch": feed.epoch,
                                   "data": {}})
    elif kind == "typing":
        state.presence.typing(key, conn_id, grant.user_id, bool(frame.get("active", True)))
    elif kind == "send":
        text = frame.get("text")
        try:
            current = await to_thread.run_sync(lambda: recheck(state.deps, grant, Role.MEMBER))  # as a request would
            if not isinstance(text, str) or not text.strip() or len(text) > 32_000:
                raise errors.StudioError(errors.VALIDATION_FAILED, "text must be 1-32000 characters")
            message = await to_thread.run_sync(lambda: state.post(current, text, frame.get("client_id")))
            await websocket.send_json({"type": "ack", "thread_id": grant.thread_id, "seq": message["seq"],
                                       "epoch": message["epoch"], "data": message})
        except errors.StudioError as err:
            await websocket.send_json({"type": "error", "thread_id": grant.thread_id, "seq": None,
                                       "epoch": feed.epoch, "data": {"code": err.code.code, "detail": err.detail}})
    elif kind == "resume":
        if frame.get("epoch") is not None and str(frame.get("epoch")) != str(feed.epoch):
            await _epoch_changed(websocket, subscriber, grant.thread_id, feed.epoch)
            return False
        raw = frame.get("cursor")
        if raw is None and isinstance(frame.get("seq"), int) and not isinstance(frame.get("seq"), bool):
            raw = str(frame["seq"])
        try:
            if not isinstance(raw, str):
                raise errors.StudioError(errors.BAD_REQUEST, "resume needs a cursor (string) or a seq (integer)")
            fresh = Cursor.parse(raw)
        except errors.StudioError as err:
            await websocket.send_json({"type": "error", "thread_id": grant.thread_id, "seq": None,
                                       "epoch": feed.epoch, "data": {"code": err.code.code, "detail": err.detail}})
            return True
        subscriber.signal(_Resume(fresh))
    return True


async def meta_socket(websocket: WebSocket) -> None:
    """``/ws/meta``: the tenant's cross-service events, one JSON frame each."""
    state: GatewayState = websocket.app.state.gateway
    try:
        grant = await to_thread.run_sync(lambda: authorize(
            state.deps, thread_id=META, ticket=websocket.query_params.get("ticket"), headers=websocket.headers))
    except errors.StudioError as err:
        await websocket.close(code=_close_code(err), reason=err.code.code)
        return
    loop = asyncio.get_running_loop()
    try:
        meta = await to_thread.run_sync(lambda: state.meta_hub(loop))
    except errors.StudioError as err:
        await websocket.close(code=_close_code(err), reason=err.code.code)
        return
    await websocket.accept()
    queue: asyncio.Queue[Any] = asyncio.Queue()
    meta.add(grant.tenant_id, grant.env, queue)

    async def sender() -> None:
        while True:
            await websocket.send_json(await queue.get())

    async def reader() -> None:  # notices a closed socket at once, not at the next event
        while True:
            await websocket.receive_text()

    tasks = [asyncio.create_task(sender()), asyncio.create_task(reader())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        meta.remove(grant.tenant_id, grant.env, queue)

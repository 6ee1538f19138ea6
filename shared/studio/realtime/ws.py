"""WebSocket ``/ws/{kind}/{thread_id}`` (``/ws/chat/...``): frames ``{type, thread_id, seq, epoch, data, cursor}``.

Connect with ``?ticket=`` (browsers) or bearer + tenant headers; resume with ``?cursor=``
(or ``?seq=``) and ``?epoch=``, or later with a ``{"type": "resume"}`` frame. A refused
caller gets an HTTP answer to the handshake (401, 403, 404, 429... with a problem+json
body where the server supports it), never a frame. Client frames: ``ping``, ``typing``
{active}, ``send`` {text, client_id?, request_id?} (the REST route itself: sends.py),
``resume`` {cursor|seq, epoch}. A frame that cannot be used gets an ``error`` frame whose
``data`` is the problem (``data.code``); the socket stays open.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anyio import to_thread
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from studio.kernel import errors, logs
from studio.kernel.http_app import log_access
from studio.kernel.json_input import parse_json
from studio.kernel.problems import PROBLEM_JSON, problem_body
from studio.realtime import events as ev
from studio.realtime.access import META, Grant, authorize, refusal
from studio.realtime.channels import ThreadChannel
from studio.realtime.cursor import Cursor
from studio.realtime.gateway_state import GatewayState, next_or_none
from studio.realtime.sends import error_frame, refused, reply_frame, send_frame
from studio.realtime.server_send import server_send
from studio.realtime.sse import start_cursor
from studio.realtime.streams import RECHECK
from studio.realtime.subscriber import ClientGone, Subscriber

CLOSE_EPOCH, CLOSE_IDLE = 4409, 4408
_conn_ids = itertools.count(1)


def _close_code(err: errors.StudioError) -> int:
    return 4000 + err.status if 400 <= err.status < 500 else 1011


def _text(frame: dict[str, Any]) -> dict[str, Any]:
    return {"type": "websocket.send", "text": json.dumps(frame, separators=(",", ":"), ensure_ascii=False)}


def _event_text(event: ev.ThreadEvent, cursor: str) -> dict[str, Any]:
    return event.rendered("ws", cursor, lambda: {"type": "websocket.send", "text": event.encoded(cursor)})


async def refuse(websocket: WebSocket, err: errors.StudioError) -> None:
    """Answer the handshake with the refusal's HTTP status and problem+json (the ASGI
    ``websocket.http.response`` extension: uvicorn has it); a server without it can only close,
    which clients see as 403, so the close code then carries the status (4000 + status)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        request_id = logs.new_request_id(websocket.headers.get("x-request-id"))
        body = problem_body(err, instance=websocket.url.path, request_id=request_id)
        await websocket.send_denial_response(Response(
            json.dumps(body), status_code=err.status, media_type=PROBLEM_JSON,
            headers={**err.headers, "X-Request-Id": request_id}))
        return
    await websocket.close(code=_close_code(err), reason=err.code.code)


@dataclass(frozen=True)
class _Resume:
    """A client's resume frame, handed to the writer so replay and live events never interleave."""

    cursor: Cursor


async def chat_socket(websocket: WebSocket, channel: ThreadChannel) -> None:
    state: GatewayState = websocket.app.state.gateway
    thread_id = websocket.path_params["thread_id"]
    q = websocket.query_params
    loop = asyncio.get_running_loop()
    subscriber: Subscriber | None = None

    def wake() -> None:  # its session ended: re-check now
        if subscriber is not None:
            subscriber.signal(RECHECK)

    def admit() -> tuple[Grant, Cursor, Any]:
        grant = authorize(state.deps, channel, thread_id=thread_id, ticket=q.get("ticket"), headers=websocket.headers)
        cursor = start_cursor(q.get("cursor"), q.get("seq"), state.live_floor(channel, grant))
        return grant, cursor, state.streams.open_stream(grant.user_id, grant.session_id, loop, wake)

    try:
        grant, cursor, release = await to_thread.run_sync(admit)
    except errors.StudioError as err:
        await refuse(websocket, err)
        return
    try:
        key = (grant.tenant_id, grant.env, thread_id)
        conn_id = next(_conn_ids)

        def ping() -> dict[str, Any]:  # only once subscribed: ``feed`` is bound below
            return _text({"type": "ping", "thread_id": thread_id, "seq": None, "epoch": feed.epoch, "data": {}})

        # Frames of the open socket go through the server's send, past Starlette's wrappers (server_send.py).
        sub = subscriber = Subscriber(cursor, _event_text, ping, state.ws_ping_s, state.deliveries,
                                      send=server_send(websocket.scope))
        try:
            feed, unsubscribe = await to_thread.run_sync(lambda: state.feeds[channel.kind].subscribe(key, sub, loop))
        except errors.StudioError as err:
            await refuse(websocket, err)
            return
        try:
            try:
                await websocket.accept()
            except OSError:  # gone during the handshake (the server's send raises OSError, per ASGI)
                return
            await to_thread.run_sync(lambda: state.join_fleet_presence(loop))
            state.presence.join(key, conn_id, grant.user_id, subscriber)
            await websocket.send_json({"type": "hello", "thread_id": thread_id, "seq": cursor.floor,
                                       "epoch": feed.epoch, "cursor": str(cursor),
                                       "data": {"user_id": grant.user_id, "presence": state.presence.users(key)}})
            if q.get("epoch") is not None and q.get("epoch") != str(feed.epoch):
                await _epoch_changed(websocket, subscriber, thread_id, feed.epoch)
                return
            await _replay(state, channel, grant, subscriber)
            await _pump(websocket, state, channel, grant, key, conn_id, subscriber, feed)
        except (WebSocketDisconnect, ClientGone):
            pass
        finally:
            subscriber.close()
            state.presence.leave(key, conn_id)
            unsubscribe()
    finally:
        release()


async def _close(websocket: WebSocket, subscriber: Subscriber, code: int, reason: str = "") -> None:
    subscriber.close()  # the fan-out writes nothing after the server's goodbye
    await websocket.close(code=code, reason=reason)


async def _epoch_changed(websocket: WebSocket, subscriber: Subscriber, thread_id: str, epoch: int) -> None:
    await websocket.send_json({"type": ev.EPOCH_CHANGED, "thread_id": thread_id, "seq": None, "epoch": epoch,
                               "data": {"epoch": epoch, "reload": True}})
    await _close(websocket, subscriber, CLOSE_EPOCH)


async def _replay(state: GatewayState, channel: ThreadChannel, grant: Grant, subscriber: Subscriber) -> None:
    cursor = subscriber.cursor
    backlog = await to_thread.run_sync(
        lambda: ev.backfill(state.deps.store, channel, grant.tenant_id, grant.env, grant.thread_id, cursor))
    for event in backlog:
        await subscriber.write_event(event)


async def _pump(websocket: WebSocket, state: GatewayState, channel: ThreadChannel, grant: Grant,
                key: tuple[str, str, str], conn_id: int, subscriber: Subscriber, feed: Any) -> None:
    async def writer() -> None:
        while True:
            item = await subscriber.next_item()
            if item is None or item is RECHECK:  # upkeep, or its session ended: may the client still listen?
                err = await refusal(state.deps, grant)
                if err is not None:
                    await _close(websocket, subscriber, _close_code(err), err.code.code)
                    return
            elif isinstance(item, dict):  # presence and typing signals, answers to frames
                await subscriber.send(_text(item))
            elif isinstance(item, _Resume):
                subscriber.cursor.floor, subscriber.cursor.states = item.cursor.floor, item.cursor.states
                await _replay(state, channel, grant, subscriber)
            elif item.type == ev.EPOCH_CHANGED:
                await _epoch_changed(websocket, subscriber, grant.thread_id, item.epoch)
                return
            else:
                await subscriber.write_event(item)

    async def reader() -> None:
        while True:
            try:
                async with asyncio.timeout(state.ws_idle_s):
                    message = await websocket.receive()
            except TimeoutError:
                await _close(websocket, subscriber, CLOSE_IDLE, "idle")
                return
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            if not await _on_message(websocket, state, channel, grant, key, conn_id, message, subscriber, feed):
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


def _frame_of(message: Mapping[str, Any]) -> dict[str, Any]:
    """A client frame: a JSON object, parsed strictly (finite numbers, bounded depth)."""
    text = message.get("text")
    if text is None:
        raise errors.StudioError(errors.INVALID_JSON, "frames are JSON text, not binary")
    frame = parse_json(text, what="frame")
    if not isinstance(frame, dict):
        raise errors.StudioError(errors.INVALID_JSON, "a frame is a JSON object")
    return frame


async def _on_message(websocket: WebSocket, state: GatewayState, channel: ThreadChannel, grant: Grant,
                      key: tuple[str, str, str], conn_id: int, message: Mapping[str, Any], subscriber: Subscriber,
                      feed: Any) -> bool:
    """Handle one client frame; False once the socket is closed."""
    started = time.perf_counter()
    try:
        frame = _frame_of(message)
    except errors.StudioError as err:
        request_id = logs.new_request_id(None)
        log_access("realtime", "WS", websocket.url.path, err.status, started,
                   websocket.headers.get("user-agent", ""), grant.ctx)
        sent = refused(err, websocket.url.path, request_id)
        subscriber.signal(error_frame(sent.body, grant.thread_id, feed.epoch, request_id))
        return True
    kind = frame.get("type")
    if kind == "ping":
        subscriber.signal({"type": "pong", "thread_id": grant.thread_id, "seq": None, "epoch": feed.epoch,
                           "data": {}})
    elif kind == "typing":
        state.presence.typing(key, conn_id, grant.user_id, bool(frame.get("active", True)))
    elif kind == "send":
        client = websocket.client
        sent = await to_thread.run_sync(lambda: send_frame(
            state.dispatch, channel.send_path(grant.thread_id), frame, tenant_id=grant.tenant_id, env=grant.env,
            principal=grant.principal, user_agent=websocket.headers.get("user-agent", ""),
            remote_addr=client.host if client else ""))
        subscriber.signal(reply_frame(sent, grant.thread_id, feed.epoch))
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
            subscriber.signal(_frame_error(websocket, grant, feed, err))
            return True
        subscriber.signal(_Resume(fresh))
    else:
        unknown = errors.StudioError(errors.BAD_REQUEST, "frame type must be one of ping, typing, send, resume")
        subscriber.signal(_frame_error(websocket, grant, feed, unknown))
    return True


def _frame_error(websocket: WebSocket, grant: Grant, feed: Any, err: errors.StudioError) -> dict[str, Any]:
    request_id = logs.new_request_id(None)
    return error_frame(problem_body(err, instance=websocket.url.path, request_id=request_id), grant.thread_id,
                       feed.epoch, request_id)


async def meta_socket(websocket: WebSocket) -> None:
    """``/ws/meta``: the tenant's cross-service events, one JSON frame each."""
    state: GatewayState = websocket.app.state.gateway
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def admit() -> tuple[Grant, Any]:
        grant = authorize(state.deps, None, thread_id=META, ticket=websocket.query_params.get("ticket"),
                          headers=websocket.headers)
        return grant, state.streams.open_stream(grant.user_id, grant.session_id, loop, lambda: queue.put_nowait(RECHECK))

    try:
        grant, release = await to_thread.run_sync(admit)
    except errors.StudioError as err:
        await refuse(websocket, err)
        return
    try:
        try:
            meta = await to_thread.run_sync(lambda: state.meta_hub(loop))
        except errors.StudioError as err:
            await refuse(websocket, err)
            return
        await websocket.accept()
        meta.add(grant.tenant_id, grant.env, queue)

        async def sender() -> None:
            while True:
                event = await next_or_none(queue, state.heartbeat_s)
                if event is None or event is RECHECK:  # upkeep, or its session ended
                    err = await refusal(state.deps, grant)
                    if err is not None:
                        await websocket.close(code=_close_code(err), reason=err.code.code)
                        return
                    continue
                await websocket.send_json(event)

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
    finally:
        release()

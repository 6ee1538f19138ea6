"""Server-Sent Events: ``GET /sse/chat/{thread_id}`` streams, ``POST`` sends.

``id:`` is the resume cursor (the last seq, unless a reply is mid-stream: see cursor.py),
``event:`` the type, ``retry:`` the reconnect hint, ``: ping`` comments keep proxies open.
``Last-Event-ID`` (or ``?since=`` / ``?cursor=``) resumes exactly.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Send

from studio.kernel import errors, logs
from studio.kernel.http_app import log_access
from studio.kernel.json_input import parse_json
from studio.realtime import events as ev
from studio.realtime.access import META, Grant, authorize, refusal
from studio.realtime.channels import ThreadChannel
from studio.realtime.cursor import Cursor, parse_seq
from studio.realtime.event_stream import EventStream
from studio.realtime.gateway_state import GatewayState, next_or_none, problem
from studio.realtime.sends import FORWARDED, run_send
from studio.realtime.streams import RECHECK
from studio.realtime.subscriber import ClientGone, Subscriber

RETRY_MS = 3000
MAX_BODY_BYTES = 1 << 20


def _sse(event_type: str, data: Any, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    body = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"{head}event: {event_type}\ndata: {body}\n\n"


def _chunk(text: str | bytes) -> dict[str, Any]:
    return {"type": "http.response.body", "body": text if isinstance(text, bytes) else text.encode(),
            "more_body": True}


def _event_chunk(event: ev.ThreadEvent, cursor: str) -> dict[str, Any]:
    return event.rendered("sse", cursor, lambda: _chunk(_sse(event.type, event.encoded(cursor), cursor)))


def _ping() -> dict[str, Any]:
    return _chunk(b": ping\n\n")


def start_cursor(raw_cursor: str | None, since: str | None, fallback: int) -> Cursor:
    if raw_cursor:
        return Cursor.parse(raw_cursor)
    if since is not None:
        return Cursor(parse_seq(since))
    return Cursor(fallback)


def _open(state: GatewayState, grant: Grant, loop: asyncio.AbstractEventLoop, wake: Any) -> Any:
    """Count the stream in (429 past the per-user cap); ``wake`` runs when its session ends."""
    return state.streams.open_stream(grant.user_id, grant.session_id, loop, wake)


async def stream_thread(request: Request, channel: ThreadChannel) -> Response:
    state: GatewayState = request.app.state.gateway
    thread_id = request.path_params["thread_id"]
    subscriber: Subscriber | None = None
    loop = asyncio.get_running_loop()

    def wake() -> None:  # its session ended: re-check now
        if subscriber is not None:
            subscriber.signal(RECHECK)

    def admit() -> tuple[Grant, Cursor, Any]:
        grant = authorize(state.deps, channel, thread_id=thread_id, ticket=request.query_params.get("ticket"),
                          headers=request.headers)
        cursor = start_cursor(request.headers.get("last-event-id") or request.query_params.get("cursor"),
                              request.query_params.get("since"), state.live_floor(channel, grant))
        return grant, cursor, _open(state, grant, loop, wake)

    try:
        grant, cursor, release = await to_thread.run_sync(admit)
    except errors.StudioError as err:
        return problem(err, request.url.path, request.headers.get("x-request-id"))
    key = (grant.tenant_id, grant.env, thread_id)
    subscriber = Subscriber(cursor, _event_chunk, _ping, state.heartbeat_s, state.deliveries)
    try:
        feed, unsubscribe = await to_thread.run_sync(
            lambda: state.feeds[channel.kind].subscribe(key, subscriber, loop))
    except BaseException as err:
        release()
        if isinstance(err, errors.StudioError):
            return problem(err, request.url.path)
        raise
    client_epoch = request.query_params.get("epoch")

    def closed() -> None:
        unsubscribe()
        release()

    async def run(send: Send) -> None:
        assert subscriber is not None
        subscriber.bind(send)
        try:
            await subscriber.send(_chunk(f"retry: {RETRY_MS}\n\n"))
            if client_epoch is not None and client_epoch != str(feed.epoch):
                await subscriber.send(_chunk(_sse(ev.EPOCH_CHANGED, {"epoch": feed.epoch, "reload": True})))
                return
            for event in await to_thread.run_sync(
                    lambda: ev.backfill(state.deps.store, channel, grant.tenant_id, grant.env, thread_id, cursor)):
                await subscriber.write_event(event)
            while True:
                event = await subscriber.next_item()
                if event is None or event is RECHECK:  # upkeep, or its session ended: may the client still listen?
                    err = await refusal(state.deps, grant)
                    if err is not None:
                        await subscriber.send(_chunk(_sse("stream.revoked",
                                                          {"code": err.code.code, "detail": err.detail})))
                        return
                elif event.type == ev.EPOCH_CHANGED:
                    await subscriber.send(_chunk(_sse(event.type, {**event.data, "reload": True})))
                    return
                else:
                    await subscriber.write_event(event)
        except ClientGone:
            pass
        finally:
            subscriber.close()

    return EventStream(run, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}, on_close=closed)


async def send_message(request: Request, channel: ThreadChannel) -> Response:
    """``POST /sse/{kind}/{thread_id}`` {text, client_id?}: the route ``POST /chat/threads/{id}/messages``
    itself (sends.py), with ``client_id`` as the Idempotency-Key when no header names one."""
    state: GatewayState = request.app.state.gateway
    started = time.perf_counter()
    path = request.url.path
    request_id = logs.new_request_id(request.headers.get("x-request-id"))
    headers = {name: value for name, value in request.headers.items() if name in FORWARDED}
    headers["x-request-id"] = request_id
    try:
        raw = b""
        async for part in request.stream():
            raw += part
            if len(raw) > MAX_BODY_BYTES:
                raise errors.StudioError(errors.PAYLOAD_TOO_LARGE)
        payload = parse_json(raw) if raw.strip() else None
    except errors.StudioError as err:  # refused here, before the route: still one access line
        log_access("realtime", request.method, path, err.status, started, request.headers.get("user-agent", ""), None)
        return problem(err, path, request_id)
    client_id = payload.get("client_id") if isinstance(payload, dict) else None
    if "idempotency-key" not in headers and isinstance(client_id, str) and client_id:
        headers["idempotency-key"] = client_id
    route_path = channel.send_path(request.path_params["thread_id"])
    remote = request.client.host if request.client else ""
    sent = await to_thread.run_sync(lambda: run_send(state.dispatch, route_path, raw, headers, remote_addr=remote))
    keep = {k: v for k, v in sent.headers.items() if k.lower() not in ("content-length", "content-type")}
    return Response(sent.raw, status_code=sent.status, media_type=sent.headers.get("Content-Type"), headers=keep)


async def stream_meta(request: Request) -> Response:
    """``GET /sse/meta``: the tenant's cross-service events (job progress, presence...)."""
    state: GatewayState = request.app.state.gateway
    queue: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def admit() -> tuple[Grant, Any]:
        grant = authorize(state.deps, None, thread_id=META, ticket=request.query_params.get("ticket"),
                          headers=request.headers)
        return grant, _open(state, grant, loop, lambda: queue.put_nowait(RECHECK))

    try:
        grant, release = await to_thread.run_sync(admit)
    except errors.StudioError as err:
        return problem(err, request.url.path, request.headers.get("x-request-id"))
    try:
        meta = await to_thread.run_sync(lambda: state.meta_hub(loop))
    except BaseException as err:
        release()
        if isinstance(err, errors.StudioError):
            return problem(err, request.url.path)
        raise
    meta.add(grant.tenant_id, grant.env, queue)

    def closed() -> None:
        meta.remove(grant.tenant_id, grant.env, queue)
        release()

    async def run(send: Send) -> None:
        try:
            await send(_chunk(f"retry: {RETRY_MS}\n\n"))
            while True:
                event = await next_or_none(queue, state.heartbeat_s)
                if event is None or event is RECHECK:  # upkeep, or its session ended
                    err = await refusal(state.deps, grant)
                    if err is not None:
                        await send(_chunk(_sse("stream.revoked", {"code": err.code.code, "detail": err.detail})))
                        return
                    if event is None:
                        await send(_ping())
                    continue
                await send(_chunk(_sse(event["type"], event, event.get("id"))))
        except OSError:  # the client is gone
            pass

    return EventStream(run, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}, on_close=closed)

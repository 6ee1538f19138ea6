"""Server-Sent Events: ``GET /sse/chat/{thread_id}`` streams, ``POST`` sends.

``id:`` is the resume cursor (the last seq, unless a reply is mid-stream: see cursor.py),
``event:`` the type, ``retry:`` the reconnect hint, ``: ping`` comments keep proxies open.
``Last-Event-ID`` (or ``?since=`` / ``?cursor=``) resumes exactly.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Send

from studio.kernel import errors
from studio.kernel.roles import Role
from studio.realtime import events as ev
from studio.realtime.access import META, authorize, recheck
from studio.realtime.cursor import Cursor, parse_seq
from studio.realtime.event_stream import EventStream
from studio.realtime.gateway_state import GatewayState, next_or_none, problem
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


async def stream_thread(request: Request) -> Response:
    state: GatewayState = request.app.state.gateway
    thread_id = request.path_params["thread_id"]
    try:
        grant = await to_thread.run_sync(lambda: authorize(
            state.deps, thread_id=thread_id, ticket=request.query_params.get("ticket"), headers=request.headers))
        last_seq = await to_thread.run_sync(lambda: state.live_floor(grant))
        cursor = start_cursor(request.headers.get("last-event-id") or request.query_params.get("cursor"),
                              request.query_params.get("since"), last_seq)
    except errors.StudioError as err:
        return problem(err, request.url.path)
    key = (grant.tenant_id, grant.env, thread_id)
    subscriber = Subscriber(cursor, _event_chunk, _ping, state.heartbeat_s, state.deliveries)
    loop = asyncio.get_running_loop()
    try:
        feed, unsubscribe = await to_thread.run_sync(lambda: state.feeds.subscribe(key, subscriber, loop))
    except errors.StudioError as err:
        return problem(err, request.url.path)
    client_epoch = request.query_params.get("epoch")

    async def run(send: Send) -> None:
        subscriber.bind(send)
        try:
            await subscriber.send(_chunk(f"retry: {RETRY_MS}\n\n"))
            if client_epoch is not None and client_epoch != str(feed.epoch):
                await subscriber.send(_chunk(_sse(ev.EPOCH_CHANGED, {"epoch": feed.epoch, "reload": True})))
                return
            for event in await to_thread.run_sync(
                    lambda: ev.backfill(state.deps.store, grant.tenant_id, grant.env, thread_id, cursor)):
                await subscriber.write_event(event)
            while True:
                event = await subscriber.next()
                if event is None:  # upkeep: may the client still listen?
                    try:
                        await to_thread.run_sync(lambda: recheck(state.deps, grant))
                    except errors.StudioError as err:
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

    return EventStream(run, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}, on_close=unsubscribe)


async def send_message(request: Request) -> Response:
    """``POST /sse/chat/{thread_id}`` {text}: the same as POST /chat/threads/{id}/messages."""
    state: GatewayState = request.app.state.gateway
    thread_id = request.path_params["thread_id"]
    try:
        grant = await to_thread.run_sync(lambda: authorize(
            state.deps, thread_id=thread_id, ticket=None, headers=request.headers, min_role=Role.MEMBER))
        raw = b""
        async for part in request.stream():
            raw += part
            if len(raw) > MAX_BODY_BYTES:
                raise errors.StudioError(errors.PAYLOAD_TOO_LARGE)
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            raise errors.StudioError(errors.INVALID_JSON) from None
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text.strip() or len(text) > 32_000:
            raise errors.StudioError(errors.VALIDATION_FAILED, "text must be 1-32000 characters",
                                     errors=[{"field": "body.text", "message": "required"}])
        message = await to_thread.run_sync(lambda: state.post(grant, text, payload.get("client_id")))
    except errors.StudioError as err:
        return problem(err, request.url.path)
    return JSONResponse(message, status_code=201)


async def stream_meta(request: Request) -> Response:
    """``GET /sse/meta``: the tenant's cross-service events (job progress, presence...)."""
    state: GatewayState = request.app.state.gateway
    try:
        grant = await to_thread.run_sync(lambda: authorize(
            state.deps, thread_id=META, ticket=request.query_params.get("ticket"), headers=request.headers))
    except errors.StudioError as err:
        return problem(err, request.url.path)
    queue: asyncio.Queue[Any] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    try:
        meta = await to_thread.run_sync(lambda: state.meta_hub(loop))
    except errors.StudioError as err:
        return problem(err, request.url.path)
    meta.add(grant.tenant_id, grant.env, queue)

    async def body() -> AsyncIterator[str]:
        try:
            yield f"retry: {RETRY_MS}\n\n"
            while True:
                event = await next_or_none(queue, state.heartbeat_s)
                if event is None:
                    yield ": ping\n\n"
                    continue
                yield _sse(event["type"], event, event.get("id"))
        finally:
            meta.remove(grant.tenant_id, grant.env, queue)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


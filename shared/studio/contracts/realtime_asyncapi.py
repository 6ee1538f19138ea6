"""The realtime frames as an AsyncAPI 3.0 document (served at /asyncapi.json by the local
runtime): what flows on an open SSE stream or WebSocket, in the words of docs/realtime.md.
Opening a stream and posting are HTTP, in OpenAPI (openapi_paths.py).

Written from the gateway's side: ``send`` operations are what it sends, ``receive`` what it
accepts from the client. The event names come from the code that emits them.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from studio.chat.models import MessageOut
from studio.realtime import events as ev
from studio.realtime.ws import CLOSE_EPOCH, CLOSE_IDLE

_SCHEMA = "#/components/schemas/{model}"
_STRING = {"type": "string"}
_NULL_INT = {"type": ["integer", "null"]}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _frame(kind: str, data: dict[str, Any], *, seq: dict[str, Any] | None = None, cursor: bool = False) -> dict[str, Any]:
    """A WebSocket frame (and an SSE ``data:``): {type, thread_id, seq, epoch, data[, cursor]}."""
    props: dict[str, Any] = {"type": {"const": kind}, "thread_id": _STRING, "seq": seq or _NULL_INT,
                             "epoch": _NULL_INT, "data": data}
    if cursor:
        props["cursor"] = {"type": "string", "description": "The resume cursor: keep the last one, give it back."}
    return _obj(["type", "data"], **props)


def _message(name: str, summary: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "title": name, "summary": summary, "contentType": "application/json", "payload": payload}


_MESSAGE = {"$ref": _SCHEMA.format(model="MessageOut")}
_INT = {"type": "integer"}
# Thread events: the same frames on SSE (``event:`` = type, ``id:`` = cursor) and WebSocket.
_THREAD_EVENTS = {
    "messageCreated": _message(ev.CREATED, "A message exists (an agent reply is born `streaming`, text empty).",
                               _frame(ev.CREATED, _MESSAGE, seq=_INT, cursor=True)),
    "messageDelta": _message(ev.DELTA, "The next chunk of a streaming reply (n = 1, 2, ...).",
                             _frame(ev.DELTA, _obj(["n", "text"], n=_INT, text=_STRING), seq=_INT, cursor=True)),
    "messageCompleted": _message(ev.COMPLETED, "A reply is complete: `text` holds all of it.",
                                 _frame(ev.COMPLETED, _MESSAGE, seq=_INT, cursor=True)),
    "messageFailed": _message(ev.FAILED, "A reply failed (`error` says why).",
                              _frame(ev.FAILED, _MESSAGE, seq=_INT, cursor=True)),
}
_RELOAD = _obj(["epoch", "reload"], epoch=_INT, reload={"const": True}, deleted={"type": "boolean"})
_SSE_ONLY = {
    "sseEpochChanged": _message(ev.EPOCH_CHANGED, "Drop the thread's local state and reload it; the stream ends.",
                                _RELOAD),
    "sseStreamRevoked": _message("stream.revoked", "The caller may no longer listen (logged out, removed); "
                                 "the stream ends.", _obj(["code", "detail"], code=_STRING, detail=_STRING)),
}
_WS_SERVER = {
    "hello": _message("hello", "First frame: where the stream starts, who is here.", _frame(
        "hello", _obj(["user_id", "presence"], user_id=_STRING, presence={"type": "array", "items": _STRING}),
        cursor=True)),
    "epochChanged": _message(ev.EPOCH_CHANGED, f"Reload the thread; the socket closes with {CLOSE_EPOCH}.",
                             _frame(ev.EPOCH_CHANGED, _RELOAD)),
    "presenceJoin": _message("presence.join", "Someone opened the thread.",
                             _frame("presence.join", _obj(["user_id"], user_id=_STRING))),
    "presenceLeave": _message("presence.leave", "Someone left the thread.",
                              _frame("presence.leave", _obj(["user_id"], user_id=_STRING))),
    "typingSignal": _message("typing", "Someone is (or stopped) typing.", _frame(
        "typing", _obj(["user_id", "active"], user_id=_STRING, active={"type": "boolean"}))),
    "serverPing": _message("ping", "Sent after a quiet spell; nothing to answer.", _frame("ping", {"type": "object"})),
    "pong": _message("pong", "The answer to the client's ping.", _frame("pong", {"type": "object"})),
    "ack": _message("ack", "The client's `send` was stored: the message.", _frame("ack", _MESSAGE, seq=_INT)),
    "error": _message("error", "A client frame was refused (the socket stays open).",
                      _frame("error", _obj(["code", "detail"], code=_STRING, detail=_STRING))),
}
_WS_CLIENT = {
    "send": _message("send", "Post a message, as POST /chat/threads/{id}/messages does.", _obj(
        ["type", "text"], type={"const": "send"}, text={"type": "string", "minLength": 1, "maxLength": 32000},
        client_id={"type": "string", "maxLength": 100})),
    "typing": _message("typing", "Tell the others you are typing.",
                       _obj(["type"], type={"const": "typing"}, active={"type": "boolean", "default": True})),
    "clientPing": _message("ping", "Are you there? (answered with pong)", _obj(["type"], type={"const": "ping"})),
    "resume": _message("resume", "Replay from a cursor (or seq) on this connection.", _obj(
        ["type"], type={"const": "resume"}, cursor=_STRING, seq={"type": "integer", "minimum": 0}, epoch=_INT)),
}
_META = {"metaEvent": _message("meta", "A cross-service event of the tenant (render.progress, audit results ...).",
                               _obj(["id", "type", "tenant_id", "env", "time", "data"], id=_STRING, type=_STRING,
                                    tenant_id=_STRING, env=_STRING, time=_STRING, data={"type": "object"}))}


def _refs(channel: str, names: Any) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names]


def _channel(address: str, server: str, description: str, messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"address": address, "description": description, "servers": [{"$ref": f"#/servers/{server}"}],
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages}, **extra}


def build_asyncapi(server_url: str = "http://127.0.0.1:8080", version: str = "0.1.0") -> dict[str, Any]:
    url = urlsplit(server_url)
    secure = url.scheme == "https"
    thread_param = {"thread_id": {"description": "The thread (th_...)."}}
    ws_query = {"type": "object", "properties": {
        "ticket": _STRING, "cursor": _STRING, "seq": {"type": "integer", "minimum": 0}, "epoch": _INT}}
    sse_thread = {**_THREAD_EVENTS, **_SSE_ONLY}
    ws_thread_server = {**_THREAD_EVENTS, **_WS_SERVER}
    channels = {
        "threadEvents": _channel("/sse/chat/{thread_id}", "sse", "A thread's events as Server-Sent Events.",
                                 sse_thread, parameters=thread_param),
        "threadSocket": _channel("/ws/chat/{thread_id}", "ws",
                                 f"A thread's WebSocket. Close codes: {CLOSE_EPOCH} epoch changed (reload), "
                                 f"{CLOSE_IDLE} idle, 4000 + HTTP status when a frame or the stream is refused "
                                 "(4400 bad frame, 4401 session ended, 4403 membership lost).",
                                 {**ws_thread_server, **_WS_CLIENT}, parameters=thread_param,
                                 bindings={"ws": {"query": ws_query, "bindingVersion": "0.1.0"}}),
        "metaEvents": _channel("/sse/meta", "sse", "The tenant's meta channel as Server-Sent Events.", _META),
        "metaSocket": _channel("/ws/meta", "ws", "The tenant's meta channel as a WebSocket.", _META),
    }
    operations = {
        "sendThreadEvents": {"action": "send", "channel": {"$ref": "#/channels/threadEvents"},
                             "summary": "Stream a thread (resume with Last-Event-ID).",
                             "messages": _refs("threadEvents", sse_thread)},
        "sendThreadFrames": {"action": "send", "channel": {"$ref": "#/channels/threadSocket"},
                             "summary": "Frames the gateway sends on a thread's socket.",
                             "messages": _refs("threadSocket", ws_thread_server)},
        "receiveThreadFrames": {"action": "receive", "channel": {"$ref": "#/channels/threadSocket"},
                                "summary": "Frames a client may send on a thread's socket.",
                                "messages": _refs("threadSocket", _WS_CLIENT)},
        "sendMetaEvents": {"action": "send", "channel": {"$ref": "#/channels/metaEvents"},
                           "summary": "Stream the meta channel.", "messages": _refs("metaEvents", _META)},
        "sendMetaFrames": {"action": "send", "channel": {"$ref": "#/channels/metaSocket"},
                           "summary": "Meta events, one frame each.", "messages": _refs("metaSocket", _META)},
    }
    schema = MessageOut.model_json_schema(ref_template=_SCHEMA, mode="serialization")
    schemas = {**schema.pop("$defs", {}), "MessageOut": schema}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Studio realtime", "version": version,
                 "description": "Frames of the realtime gateway. Open a stream with a ticket "
                                "(POST /realtime/tickets) or bearer + X-Tenant-Id + X-Env; see docs/realtime.md "
                                "for the resume cursor and the reconnect algorithm."},
        "servers": {
            "sse": {"host": url.netloc, "protocol": "https" if secure else "http", "description": "Server-Sent Events"},
            "ws": {"host": url.netloc, "protocol": "wss" if secure else "ws", "description": "WebSocket"},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": {**_THREAD_EVENTS, **_SSE_ONLY, **_WS_SERVER, **_WS_CLIENT, **_META},
                       "schemas": schemas},
    }

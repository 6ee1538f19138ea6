"""The gateway's HTTP side in OpenAPI (kernel/openapi.py merges it into the API's document):
how a stream is opened and a message posted. The frames that flow once a stream is open are
in the AsyncAPI document (asyncapi.py, served at /asyncapi.json)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.chat.models import MessageIn, MessageOut
from studio.kernel.problems import PROBLEM_JSON

if TYPE_CHECKING:
    from pydantic import BaseModel
    from pydantic.json_schema import JsonSchemaMode

_REF = "#/components/schemas/{model}"
_PROBLEM = {"description": "Error (RFC 9457 problem+json; see the code registry)",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_FRAMES = "The events are described in the AsyncAPI document (/asyncapi.json) and docs/realtime.md."


def _param(name: str, where: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


_THREAD = _param("thread_id", "path", "The thread (th_...)", {"type": "string", "minLength": 1}, required=True)
_TICKET = _param("ticket", "query", "A single-use ticket from POST /realtime/tickets (30 s), for clients that "
                 "cannot send headers (EventSource). Without one: Authorization + X-Tenant-Id + X-Env.",
                 {"type": "string", "maxLength": 200})
_TENANT = [
    _param("X-Tenant-Id", "header", "Required with a bearer token, ignored with a ticket.",
           {"type": "string", "pattern": "^t_[a-z0-9]{3,}$"}),
    _param("X-Env", "header", "Required with a bearer token, ignored with a ticket. `stage` is also accepted, "
           "as a deprecated alias of `staging`.",
           {"type": "string", "enum": ["dev", "staging", "prod"]}),
]
_CURSOR = _param("cursor", "query", "Resume after this cursor (the last event's `cursor`).",
                 {"type": "string", "maxLength": 2000})
_EPOCH = _param("epoch", "query", "The thread epoch the client holds; a different one ends the stream with "
                "thread.epoch_changed.", {"type": "integer", "minimum": 1})
_TICKET_OR_BEARER: list[dict[str, list[str]]] = [{}, {"bearer": []}]  # {}: a ticket instead of a token


def _stream(summary: str, operation_id: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "operationId": operation_id, "summary": summary, "tags": ["realtime"], "description": _FRAMES,
        "security": _TICKET_OR_BEARER, "parameters": parameters,
        "responses": {"200": {"description": "An event stream (open until the client leaves or Cloud Run "
                                             "ends it; resume with Last-Event-ID).",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      "default": _PROBLEM},
    }


def _socket(summary: str, operation_id: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "operationId": operation_id, "summary": summary, "tags": ["realtime"], "description": _FRAMES,
        "security": _TICKET_OR_BEARER, "parameters": parameters,
        "responses": {"101": {"description": "Switching Protocols: the WebSocket is open."},
                      "default": _PROBLEM},
    }


def openapi_paths() -> dict[str, dict[str, Any]]:
    """``paths`` entries for the gateway's routes (realtime/app.py)."""
    last_event_id = _param("Last-Event-ID", "header", "Resume: the last SSE `id:` seen (EventSource sends it).",
                           {"type": "string", "maxLength": 2000})
    since = _param("since", "query", "Start after this seq (e.g. the last one GET .../messages returned).",
                   {"type": "integer", "minimum": 0})
    seq = _param("seq", "query", "Resume after this seq (like `since`).", {"type": "integer", "minimum": 0})
    return {
        "/sse/chat/{thread_id}": {
            "get": _stream("Stream a thread's events (Server-Sent Events)", "realtime_stream_thread",
                           [_THREAD, _TICKET, *_TENANT, since, _CURSOR, _EPOCH, last_event_id]),
            "post": {
                "operationId": "realtime_send_message", "summary": "Post a message to the thread",
                "tags": ["realtime"], "parameters": [_THREAD, *[dict(p, required=True) for p in _TENANT]],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": _REF.format(model="MessageIn")}}}},
                "responses": {"201": {"description": "Created", "content": {"application/json": {
                    "schema": {"$ref": _REF.format(model="MessageOut")}}}}, "default": _PROBLEM},
            },
        },
        "/sse/meta": {"get": _stream("Stream the tenant's meta channel (Server-Sent Events)", "realtime_stream_meta",
                                     [_TICKET, *_TENANT])},
        "/ws/chat/{thread_id}": {"get": _socket("Open a thread's WebSocket", "realtime_chat_socket",
                                                [_THREAD, _TICKET, *_TENANT, _CURSOR, seq, _EPOCH])},
        "/ws/meta": {"get": _socket("Open the tenant's meta channel WebSocket", "realtime_meta_socket",
                                    [_TICKET, *_TENANT])},
        "/healthz/realtime": {"get": {
            "operationId": "health_healthz_realtime", "summary": "Liveness of the realtime gateway",
            "tags": ["health"], "security": [],
            "responses": {"200": {"description": "Success", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"status": {"type": "string"},
                                                            "function": {"type": "string"}}}}}},
                          "default": _PROBLEM}}},
    }


def openapi_schemas() -> dict[str, Any]:
    """The component schemas ``openapi_paths`` refers to."""
    out: dict[str, Any] = {}
    forms: tuple[tuple[type[BaseModel], JsonSchemaMode], ...] = ((MessageIn, "validation"),
                                                                 (MessageOut, "serialization"))
    for model, mode in forms:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out

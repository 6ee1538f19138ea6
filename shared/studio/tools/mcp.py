"""An MCP server over the streamable HTTP transport (spec 2025-06-18), answering each POST with one JSON
body: ``initialize``, ``tools/list`` and ``tools/call``, the last through the one invoke path (decision
0033). There is no server-initiated stream: a GET is 405, as the transport allows.

The session id handed out at ``initialize`` scopes idempotency: a ``tools/call`` retried with the same
session and JSON-RPC id replays its first answer instead of acting twice (an explicit key may be sent in
``params._meta["io.studio/idempotency-key"]``). Without a session each call is its own.
"""
from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from studio.governance.gates import Subject
from studio.kernel import errors
from studio.kernel.context import RequestContext
from studio.tools import exports
from studio.tools.errors import TOOL_NOT_FOUND
from studio.tools.invoker import Invocation

if TYPE_CHECKING:
    from studio.tools.services import ToolsServices

PROTOCOL_VERSIONS = ("2025-06-18", "2025-03-26", "2025-11-25")
SERVER_INFO = {"name": "studio-tools", "title": "Studio platform tools", "version": "1.0.0"}
PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602
IDEMPOTENCY_META = "io.studio/idempotency-key"
PROBLEM_META = "io.studio/problem"

Answer = tuple[int, dict[str, Any] | None, dict[str, str]]


class McpServer:
    def __init__(self, services: ToolsServices, ctx: RequestContext, subject: Subject) -> None:
        self._services = services
        self._ctx = ctx
        self._subject = subject

    def handle(self, message: Mapping[str, Any], session_id: str | None) -> Answer:
        method, msg_id = message["method"], message.get("id")
        params: Mapping[str, Any] = message.get("params") or {}
        if msg_id is None:  # a notification (notifications/initialized ...): accepted, nothing to answer
            return 202, None, {}
        if method == "initialize":
            requested = str(params.get("protocolVersion", ""))
            version = requested if requested in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0]
            result = {"protocolVersion": version, "capabilities": {"tools": {"listChanged": False}},
                      "serverInfo": SERVER_INFO,
                      "instructions": "Tools of this tenant; every call passes the platform's governance gates."}
            return 200, _result(msg_id, result), {"Mcp-Session-Id": "ms_" + secrets.token_urlsafe(24)}
        if method == "ping":
            return 200, _result(msg_id, {}), {}
        if method == "tools/list":
            specs = self._services.catalog.specs(self._ctx)
            return 200, _result(msg_id, {"tools": [exports.mcp_tool(s) for s in specs]}), {}
        if method == "tools/call":
            return 200, self._call(msg_id, params, session_id), {}
        return 200, _error(msg_id, METHOD_NOT_FOUND, f"method {method!r} is not served"), {}

    def _call(self, msg_id: Any, params: Mapping[str, Any], session_id: str | None) -> dict[str, Any]:
        name, arguments = params.get("name"), params.get("arguments") or {}
        meta = params.get("_meta") or {}
        if not isinstance(name, str) or not isinstance(arguments, dict) or not isinstance(meta, dict):
            return _error(msg_id, INVALID_PARAMS, "tools/call takes a name and an arguments object")
        key = meta.get(IDEMPOTENCY_META)
        if not isinstance(key, str):
            key = f"mcp:{session_id}:{msg_id}" if session_id else "mcp:" + secrets.token_urlsafe(16)
        # A destructive tool's base_rev: in _meta, or (what a model can send) among the arguments.
        base_rev = meta.get("io.studio/base_rev")
        if not isinstance(base_rev, int) and isinstance(arguments.get("base_rev"), int):
            arguments = dict(arguments)
            base_rev = arguments.pop("base_rev")
        base_rev = base_rev if isinstance(base_rev, int) and not isinstance(base_rev, bool) else None
        try:
            result = self._services.invoker.invoke(Invocation(
                self._ctx, self._subject, name, arguments, base_rev=base_rev, idempotency_key=key[:200]))
        except errors.StudioError as exc:
            if exc.code is TOOL_NOT_FOUND:
                return _error(msg_id, INVALID_PARAMS, exc.detail)
            problem = {"code": exc.code.code, "status": exc.status, "detail": exc.detail}
            return _result(msg_id, {"content": [{"type": "text", "text": f"{exc.code.code}: {exc.detail}"}],
                                    "isError": True, "_meta": {PROBLEM_META: problem}})
        import json

        output = result["output"]
        return _result(msg_id, {"content": [{"type": "text", "text": json.dumps(output)}],
                                "structuredContent": output, "isError": False,
                                "_meta": {"io.studio/audit_id": result["audit_id"], "io.studio/usage": result["usage"],
                                          "io.studio/version": result["version"]}})


def _result(msg_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "result": result}


def _error(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}

"""HTTP routes of the tools function: the registry, its exports, the invoke path, and MCP."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.governance.gates import Subject
from studio.kernel.call import Call, Reply
from studio.kernel.context import RequestContext
from studio.kernel.model_refs import RevisionQuery, models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.tools import exports
from studio.tools.invoker import Invocation
from studio.tools.mcp import McpServer
from studio.tools.services import tools_services

if TYPE_CHECKING:
    from studio.tools import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.tools.models")

tools = Router("tools")


def subject_of(ctx: RequestContext, kind: str = "user") -> Subject:
    """The caller as the gates judge it: a person with their tenant role (a system identity ranks as owner)."""
    role = ctx.role or Role.OWNER
    return Subject("api_client" if kind == "api_client" else "user", ctx.user_id, role)


@tools.tenant("GET", "/tools", role=Role.VIEWER, response=m.ToolList)
def list_tools(call: Call) -> Any:
    """Every tool the tenant can invoke (latest versions): built-ins, then its own HTTP tools."""
    return {"tools": tools_services(call.deps).catalog.list_tools(call.need_ctx())}


@tools.tenant("GET", "/tools/export/mcp", role=Role.VIEWER, response=m.McpExport)
def export_mcp(call: Call) -> Any:
    """The registry as MCP's tools/list result (annotations derived from danger and side effects)."""
    specs = tools_services(call.deps).catalog.specs(call.need_ctx())
    return {"tools": [exports.mcp_tool(s) for s in specs]}


@tools.tenant("GET", "/tools/export/openai", role=Role.VIEWER, response=m.OpenAiExport)
def export_openai(call: Call) -> Any:
    """The registry as OpenAI strict function tools (closed objects, optional fields nullable)."""
    specs = tools_services(call.deps).catalog.specs(call.need_ctx())
    return {"tools": [exports.openai_tool(s) for s in specs]}


@tools.tenant("GET", "/tools/{name}", role=Role.VIEWER, response=m.ToolOut)
def get_tool(call: Call) -> Any:
    """One tool (name, or name@version for an older one), with its schemas and versions."""
    return tools_services(call.deps).catalog.describe(call.need_ctx(), call.params["name"])


def _tool_rev(call: Call) -> int | None:
    return tools_services(call.deps).catalog.current_rev(call.need_ctx(), call.params["name"])


def _existing_tool_rev(call: Call) -> int | None:
    return tools_services(call.deps).catalog.existing_rev(call.need_ctx(), call.params["name"])


@tools.tenant("PUT", "/tools/{name}", role=Role.ADMIN, body=m.HttpToolIn, response=m.ToolOut,
              revisioned=True, current_rev=_tool_rev)
def put_tool(call: Call) -> Any:
    """Publish a new version of a tenant HTTP tool (base_rev 0 creates it); older versions stay invocable."""
    ctx = call.need_ctx()
    _check_unlocked(call, ctx)
    definition = call.body.model_dump(mode="json", exclude={"base_rev"})
    return tools_services(call.deps).catalog.put_http_tool(ctx, call.params["name"], definition, call.expected_rev())


@tools.tenant("DELETE", "/tools/{name}", role=Role.ADMIN, query=RevisionQuery, status=204,
              revisioned=True, current_rev=_existing_tool_rev)
def delete_tool(call: Call) -> Any:
    """Remove a tenant HTTP tool with all its versions (built-ins cannot be removed)."""
    ctx = call.need_ctx()
    _check_unlocked(call, ctx)
    tools_services(call.deps).catalog.delete_http_tool(ctx, call.params["name"], call.expected_rev())
    return Reply(None, status=204)


@tools.tenant("POST", "/tools/{name}/invoke", role=Role.VIEWER, body=m.InvokeIn, response=m.InvokeOut)
def invoke_tool(call: Call) -> Any:
    """Invoke a tool through every gate: schema, kill switch, strategy lock, role, licence, budget, policy."""
    ctx = call.need_ctx()
    return tools_services(call.deps).invoker.invoke(Invocation(
        ctx, subject_of(ctx), call.params["name"], call.body.input, base_rev=call.body.base_rev,
        idempotency_key=call.request.headers.get("Idempotency-Key")))


# idempotent=False: MCP retries by (Mcp-Session-Id, JSON-RPC id), which the server replays itself; the kernel's
# Idempotency-Key journal would store a tools/call result (any tool's output) beside its own.
@tools.tenant("POST", "/mcp", role=Role.VIEWER, body=m.JsonRpcRequest, idempotent=False)
def mcp(call: Call) -> Any:
    """MCP over streamable HTTP (JSON responses): initialize, tools/list, tools/call through the same gates."""
    ctx = call.need_ctx()
    server = McpServer(tools_services(call.deps), ctx, subject_of(ctx, "api_client"))
    status, body, headers = server.handle(call.body.model_dump(mode="json", exclude_unset=True),
                                          call.request.headers.get("Mcp-Session-Id"))
    return Reply(body, status=status, headers=headers)


def _check_unlocked(call: Call, ctx: RequestContext) -> None:
    from studio.governance.services import governance_services

    governance_services(call.deps).locks.check_scope_unlocked(ctx, "tools")


ROUTERS = (tools,)

"""Where the tools domain's documents live."""
from __future__ import annotations

from studio.kernel.paths import tenant_collection


def tools(tenant_id: str, env: str) -> str:
    return tenant_collection(tenant_id, env, "tools")


def tool(tenant_id: str, env: str, name: str) -> str:
    return f"{tools(tenant_id, env)}/{name}"


def invocations(tenant_id: str, env: str) -> str:
    """Results of non-idempotent invocations by idempotency key: a retry gets the first answer."""
    return tenant_collection(tenant_id, env, "tool_invocations")


def invocation(tenant_id: str, env: str, key_hash: str) -> str:
    return f"{invocations(tenant_id, env)}/{key_hash}"

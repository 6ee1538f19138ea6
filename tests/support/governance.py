"""Helpers for governance tests: a tenant with admins, a system identity's token, gate requests."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from studio.governance.gates import GateRequest, Subject
from studio.identity.local_tokens import LocalTokenIssuer
from studio.identity.services import identity_services
from studio.kernel.deps import Deps
from studio.kernel.roles import Role
from tests.support.api import User, add_member, new_user
from tests.support.platform import RunningPlatform


def later(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def admins(client: httpx.Client, owner: User, tenant: str, n: int) -> list[User]:
    found = []
    for _ in range(n):
        user = new_user(client, "admin")
        add_member(client, owner, tenant, user, "admin")
        found.append(user)
    return found


def system_headers(platform: RunningPlatform, tenant: str) -> dict[str, str]:
    """A system identity's token, signed with the platform's own keys (as the platform's jobs hold one)."""
    return system_headers_for(platform.deps, tenant)


def system_headers_for(deps: Deps, tenant: str) -> dict[str, str]:
    issuer = LocalTokenIssuer(identity_services(deps).keyring, issuer=deps.settings.public_url, ttl_s=300)
    token = issuer.issue("svc_governance_test", None, None, system=True)
    return {"Authorization": f"Bearer {token}", "X-Tenant-Id": tenant, "X-Env": "dev"}


def tool_request(tenant: str, tool: str = "chat.post_message", *, danger: str = "none", subject_id: str = "u_x",
                 kind: str = "user", estimate_usd: float = 0.0, provider: str | None = None,
                 agent_id: str | None = None, licence_required: bool = False) -> GateRequest:
    return GateRequest(tenant, "dev", Subject(kind, subject_id, Role.MEMBER), "tool.invoke",  # type: ignore[arg-type]
                       tool=tool, tool_version="1.0.0", danger=danger, side_effects="write",
                       licence_required=licence_required, provider=provider, agent_id=agent_id,
                       estimate_usd=estimate_usd, estimate_tokens=100)

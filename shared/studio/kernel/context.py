"""Who is calling and for which tenant: derived from the verified token and the
membership in the store, never from headers alone (CAPABILITIES B5)."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from studio.kernel import errors
from studio.kernel.roles import Role

if TYPE_CHECKING:
    from studio.ports.store import Watch

TENANT_ID = re.compile(r"^t_[a-z0-9]{3,}$")
ENVS = ("dev", "staging", "prod")
_ENV_ALIASES = {"stage": "staging"}


@dataclass(frozen=True)
class Principal:
    """A verified caller. ``session_id`` is the refresh-token family (None for Firebase)."""

    user_id: str
    email: str | None = None
    session_id: str | None = None
    is_system: bool = False
    issuer: str = "local"
    claims: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestContext:
    tenant_id: str
    env: str
    principal: Principal
    role: Role | None  # None only for system identities acting across tenants

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def is_system(self) -> bool:
        return self.principal.is_system


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal:
        """Raises StudioError(TOKEN_INVALID) for anything not provably valid."""
        ...


class MembershipReader(Protocol):
    def role_of(self, tenant_id: str, user_id: str) -> Role | None: ...


class SessionReader(Protocol):
    """Sessions as the platform sees them: a request checks its session is open, and a long-lived
    stream (the realtime gateway) closes when its session ends."""

    def session_active(self, session_id: str) -> bool: ...

    def watch_ended(self, on_end: Callable[[str], None]) -> Watch:
        """Call ``on_end(session_id)`` (on a background thread) whenever a session ends."""
        ...


def normalise_env(raw: str | None) -> str:
    env = (raw or "").strip().lower()
    env = _ENV_ALIASES.get(env, env)
    if env not in ENVS:
        raise errors.StudioError(errors.TENANT_REQUIRED, "X-Env must be one of dev, staging, prod")
    return env


def check_tenant_id(raw: str | None) -> str:
    if not raw or not TENANT_ID.match(raw):
        raise errors.StudioError(errors.TENANT_REQUIRED, "X-Tenant-Id must match ^t_[a-z0-9]{3,}$")
    return raw

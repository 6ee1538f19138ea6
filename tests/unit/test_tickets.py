"""Tickets are single use, expire after 30 s and name their session (real SQLite store; time passed in)."""
from __future__ import annotations

from pathlib import Path

import pytest

from studio.adapters.sqlite_store import SqliteStore
from studio.kernel import errors
from studio.kernel.context import Principal, RequestContext
from studio.kernel.roles import Role
from studio.kernel.tickets import TTL_S, TicketService


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_ticket_is_single_use_and_expires(tmp_path: Path) -> None:
    clock = Clock()
    service = TicketService(SqliteStore(tmp_path / "s.db"), clock=clock)
    ctx = RequestContext("t_abc", "dev", Principal("u_1", session_id="s_1"), Role.MEMBER)
    first = service.issue(ctx, "th_1")["ticket"]
    grant = service.redeem(first, "th_1")
    assert (grant.tenant_id, grant.env, grant.user_id, grant.session_id) == ("t_abc", "dev", "u_1", "s_1")
    with pytest.raises(errors.StudioError):
        service.redeem(first, "th_1")
    late = service.issue(ctx, "th_1")["ticket"]
    clock.now += TTL_S + 1
    with pytest.raises(errors.StudioError) as expired:
        service.redeem(late, "th_1")
    assert expired.value.status == 401

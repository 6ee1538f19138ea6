"""The governance gates every risky AI action passes (issue 9): kill switch, strategy lock, licence,
budget. One object, ``governance_services(deps).gates``, used by the tools' invoke path (HTTP, MCP,
chat) and by the agent pipeline's model calls, so no transport has its own copy of a rule.

Each check either returns or raises ``StudioError`` with its own code (``governance/errors.py``):
``KILL_SWITCH_ACTIVE``, ``STRATEGY_LOCKED``, ``LICENCE_REQUIRED``, ``BUDGET_EXCEEDED``. A budget is
reserved before the call and settled (or released) after it, each in a store transaction.

When is a licence needed? When the tool says so (``licence_required``) or its danger is ``high`` or
``critical``. A licence covers a request when it is held by the same subject (kind and id), is
neither revoked nor expired, and names the tool or a danger level at least the tool's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from studio.kernel.roles import Role

if TYPE_CHECKING:
    from studio.governance.budgets import BudgetService
    from studio.governance.kill_switches import KillSwitchService
    from studio.governance.licences import LicenceService
    from studio.governance.locks import LockService

SubjectKind = Literal["user", "agent", "api_client"]
DANGER_LEVELS = ("none", "low", "high", "critical")  # ordered: a licence for "high" covers "low" too
LICENSED_DANGERS = frozenset({"high", "critical"})


@dataclass(frozen=True)
class Subject:
    kind: SubjectKind
    id: str
    role: Role


@dataclass(frozen=True)
class GateRequest:
    tenant_id: str
    env: str
    subject: Subject
    action: str  # "tool.invoke" | "model.call"
    tool: str | None = None
    tool_version: str | None = None
    danger: str = "none"
    side_effects: str = "none"
    licence_required: bool = False
    provider: str | None = None
    model: str | None = None
    agent_id: str | None = None
    estimate_usd: float = 0.0
    estimate_tokens: int = 0

    @property
    def needs_licence(self) -> bool:
        return self.licence_required or self.danger in LICENSED_DANGERS


@dataclass(frozen=True)
class Reservation:
    """Money held against the budgets that cover one call, until it is settled or released."""

    id: str
    tenant_id: str
    env: str
    budget_ids: tuple[str, ...]
    estimate_usd: float
    estimate_tokens: int
    provider: str | None
    model: str | None
    tool: str | None
    subject_kind: str
    subject_id: str
    action: str


class ToolGates:
    """The four gates over governance's services; the invoke path calls them in its order."""

    def __init__(self, switches: KillSwitchService, locks: LockService, licences: LicenceService,
                 budgets: BudgetService) -> None:
        self._switches = switches
        self._locks = locks
        self._licences = licences
        self._budgets = budgets

    def check_kill_switch(self, req: GateRequest) -> None:
        self._switches.check(req)

    def check_strategy_lock(self, req: GateRequest) -> None:
        self._locks.check_request(req)

    def check_licence(self, req: GateRequest) -> None:
        self._licences.check(req)

    def reserve(self, req: GateRequest) -> Reservation:
        return self._budgets.reserve(req)

    def settle(self, reservation: Reservation, usd: float, tokens: int) -> None:
        self._budgets.settle(reservation, usd, tokens)

    def release(self, reservation: Reservation) -> None:
        self._budgets.release(reservation)

"""The hook where governance plugs into every agent call: kill switches, budgets per
provider, firearms licences, strategy locks (CAPABILITIES I30, G26). Each arrives as one
more gate in the list; the pipeline asks them all before calling a model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from studio.kernel import errors


@dataclass(frozen=True)
class AgentCall:
    tenant_id: str
    env: str
    user_id: str
    agent_id: str
    provider: str
    model: str


class GovernanceBlocked(errors.StudioError):
    def __init__(self, reason: str) -> None:
        super().__init__(errors.FORBIDDEN, reason)
        self.reason = reason


class GovernanceGate(Protocol):
    def check(self, call: AgentCall) -> None:
        """Raise GovernanceBlocked(reason) to stop the call; the reply fails with that reason."""
        ...


def check_all(gates: list[GovernanceGate], call: AgentCall) -> None:
    for gate in gates:
        gate.check(call)

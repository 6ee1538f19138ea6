"""The hook where governance plugs into every agent call (CAPABILITIES I30, G26): kill switches on
the provider, the model and the agent, a strategy lock on the agent, the tenant's temperature
corridor and its budgets. The pipeline admits a call before asking the model and settles it after;
a refusal ends the reply ``failed`` with the gate's reason.

``check_all`` and ``GovernanceGate`` stay for extra gates a deployment adds beside governance's.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from studio.governance.gates import GateRequest, Reservation, Subject, ToolGates
from studio.governance.prices import estimate_usd, price_of
from studio.kernel import errors
from studio.kernel.roles import Role
from studio.ports.llm import Turn

MAX_REPLY_TOKENS = 1024  # what a reply is reserved for before the model says what it used


@dataclass(frozen=True)
class AgentCall:
    tenant_id: str
    env: str
    user_id: str
    agent_id: str
    provider: str
    model: str


class GovernanceBlocked(errors.StudioError):
    def __init__(self, reason: str, code: errors.ErrorCode = errors.FORBIDDEN) -> None:
        super().__init__(code, reason)
        self.reason = reason


class GovernanceGate(Protocol):
    def check(self, call: AgentCall) -> None:
        """Raise GovernanceBlocked(reason) to stop the call; the reply fails with that reason."""
        ...


def check_all(gates: list[GovernanceGate], call: AgentCall) -> None:
    for gate in gates:
        gate.check(call)


def count_tokens(text: str) -> int:
    """Tokens of a text for a model that does not report them (the local and echo responders):
    about four characters each, the usual rule for English with BPE vocabularies."""
    return (len(text) + 3) // 4


class Corridors(Protocol):
    def clamp(self, tenant_id: str, env: str, agent_id: str | None, requested: float | None) -> float: ...


@dataclass(frozen=True)
class Admission:
    reservation: Reservation
    temperature: float
    input_tokens: int


class ModelCallGovernance:
    """Governance's gates as the agent pipeline asks them: one model call is one ``model.call``
    request by the agent (the subject), reserved against the tenant's budgets for its provider."""

    def __init__(self, gates: ToolGates, corridors: Corridors) -> None:
        self._gates = gates
        self._corridors = corridors

    def _request(self, call: AgentCall, input_tokens: int) -> GateRequest:
        return GateRequest(call.tenant_id, call.env, Subject("agent", call.agent_id, Role.MEMBER), "model.call",
                           provider=call.provider, model=call.model, agent_id=call.agent_id,
                           estimate_usd=estimate_usd(call.provider, call.model, input_tokens, MAX_REPLY_TOKENS),
                           estimate_tokens=input_tokens + MAX_REPLY_TOKENS)

    def admit(self, call: AgentCall, turns: Sequence[Turn], requested_temperature: float | None = None) -> Admission:
        input_tokens = sum(count_tokens(t.text) for t in turns)
        req = self._request(call, input_tokens)
        try:
            self._gates.check_kill_switch(req)
            self._gates.check_strategy_lock(req)
            reservation = self._gates.reserve(req)
        except errors.StudioError as exc:
            raise GovernanceBlocked(exc.detail, exc.code) from None
        temperature = self._corridors.clamp(call.tenant_id, call.env, call.agent_id, requested_temperature)
        return Admission(reservation, temperature, input_tokens)

    def settle(self, admission: Admission, call: AgentCall, input_tokens: int, output_tokens: int) -> None:
        usd = price_of(call.provider, call.model).cost(input_tokens, output_tokens)
        self._gates.settle(admission.reservation, usd, input_tokens + output_tokens)

    def release(self, admission: Admission) -> None:
        self._gates.release(admission.reservation)

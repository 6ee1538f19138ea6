"""Builds governance's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.governance.budgets import BudgetService
from studio.governance.corridors import CorridorService
from studio.governance.gates import ToolGates
from studio.governance.kill_switches import KillSwitchService
from studio.governance.licences import LicenceService
from studio.governance.locks import LockService
from studio.kernel.deps import Deps, Slot


@dataclass(frozen=True)
class GovernanceServices:
    switches: KillSwitchService
    locks: LockService
    licences: LicenceService
    budgets: BudgetService
    corridors: CorridorService
    gates: ToolGates


GOVERNANCE: Slot[GovernanceServices] = Slot("governance")


def build(deps: Deps) -> GovernanceServices:
    switches, locks = KillSwitchService(deps.store), LockService(deps.store)
    licences, budgets = LicenceService(deps.store), BudgetService(deps.store)
    return GovernanceServices(switches, locks, licences, budgets, CorridorService(deps.store),
                              ToolGates(switches, locks, licences, budgets))


def governance_services(deps: Deps) -> GovernanceServices:
    return deps.memo(GOVERNANCE, lambda: build(deps))

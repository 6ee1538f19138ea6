"""Builds the privacy domain's services from the ports, once per instance."""
from __future__ import annotations

from dataclasses import dataclass

from studio.kernel.deps import Deps, Slot
from studio.privacy.policies import PolicyRepo
from studio.privacy.policy_filter import PolicyFilter


@dataclass(frozen=True)
class PrivacyServices:
    policy: PolicyFilter  # apply / scan: what other domains call
    policies: PolicyRepo  # the policy document itself (the /privacy/policy routes)


PRIVACY: Slot[PrivacyServices] = Slot("privacy")


def privacy_services(deps: Deps) -> PrivacyServices:
    return deps.memo(PRIVACY, lambda: PrivacyServices(PolicyFilter(deps.store), PolicyRepo(deps.store)))

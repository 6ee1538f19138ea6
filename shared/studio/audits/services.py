"""The audits domain's services, built once per instance from the ports."""
from __future__ import annotations

from dataclasses import dataclass

from studio.audits.compliance import EaaPacks
from studio.audits.jobs import AuditJobs
from studio.kernel.deps import Deps, Slot
from studio.tools.ssrf import UrlGuard


@dataclass(frozen=True)
class AuditsServices:
    jobs: AuditJobs
    eaa: EaaPacks


AUDITS: Slot[AuditsServices] = Slot("audits")


def _build(deps: Deps) -> AuditsServices:
    jobs = AuditJobs(deps.store, deps.bus, UrlGuard(deps.settings.audit_url_allow), lambda: deps.analytics)
    return AuditsServices(jobs, EaaPacks(deps.store, jobs))


def audits_services(deps: Deps) -> AuditsServices:
    return deps.memo(AUDITS, lambda: _build(deps))

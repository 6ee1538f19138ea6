"""The provenance domain's services, built once per instance from the ports."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.kernel import errors
from studio.kernel.context import RequestContext
from studio.kernel.deps import Deps, Slot
from studio.kernel.meta import publish_meta
from studio.provenance import c2pa_report, entries, lineage, verify
from studio.provenance.ids import ID_PATTERN

if TYPE_CHECKING:
    from studio.provenance.models import EntryQuery

_ID = re.compile(ID_PATTERN)
VERIFY_PROGRESS = "provenance.verify_progress"


def _check_id(value: str, what: str) -> str:
    if not _ID.fullmatch(value):
        raise errors.StudioError(errors.VALIDATION_FAILED, f"{what} must match {ID_PATTERN}")
    return value


@dataclass(frozen=True)
class ProvenanceService:
    deps: Deps

    def entries(self, ctx: RequestContext, query: EntryQuery) -> dict[str, Any]:
        return entries.list_entries(self.deps.store, ctx.tenant_id, ctx.env, query)

    def lineage(self, ctx: RequestContext, node_id: str, direction: str) -> dict[str, Any]:
        return lineage.lineage(self.deps.store, ctx.tenant_id, ctx.env, _check_id(node_id, "the id"), direction)

    def verify(self, ctx: RequestContext) -> dict[str, Any]:
        # A long chain takes a while: its progress goes to the tenant's live clients (meta channel).
        def progress(checked: int) -> None:
            publish_meta(self.deps.bus, ctx.tenant_id, ctx.env, VERIFY_PROGRESS, {"checked": checked})

        return verify.verify_chain(self.deps.store, ctx.tenant_id, ctx.env, progress)

    def c2pa(self, ctx: RequestContext, artifact_id: str) -> dict[str, Any]:
        return c2pa_report.c2pa_report(self.deps, ctx.tenant_id, ctx.env, _check_id(artifact_id, "the artifact id"))


PROVENANCE: Slot[ProvenanceService] = Slot("provenance")


def provenance_services(deps: Deps) -> ProvenanceService:
    return deps.memo(PROVENANCE, lambda: ProvenanceService(deps))

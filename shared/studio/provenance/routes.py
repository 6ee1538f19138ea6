"""HTTP routes of the provenance function: the ledger's entries, lineage and verification, and the
C2PA manifest of an artifact. Read-only: entries are appended by the writer (domain events) and by
``ledger.append_entry`` in process, never by a client."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.query_spec import OneOf, QuerySpec, Text, Time, page
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.provenance.ids import ID_PATTERN
from studio.provenance.services import provenance_services

if TYPE_CHECKING:
    from studio.provenance import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.provenance.models")

# restates m.EntryQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
_ID = Text(pattern=ID_PATTERN)
ENTRIES = QuerySpec(m.EntryQuery, {
    "subject": _ID, "action": OneOf(("upload", "derive", "edit", "delete", "register", "render", "ai")),
    "actor": _ID, "since": Time(), "until": Time(), **page(500)}, ordered=(("since", "until"),))

provenance = Router("provenance")


@provenance.tenant("GET", "/provenance/entries", role=Role.VIEWER, query=ENTRIES, response=m.EntryPage)
def list_entries(call: Call) -> Any:
    """Ledger entries, newest first, by subject, action, actor and time range."""
    return provenance_services(call.deps).entries(call.need_ctx(), call.query)


@provenance.tenant("GET", "/provenance/lineage/{node_id}", role=Role.VIEWER, query=m.LineageQuery,
                   response=m.Lineage)
def get_lineage(call: Call) -> Any:
    """The graph of assets and artifacts this one was made from (up), made into (down), or both."""
    from studio.provenance.models import Lineage  # pydantic: loaded by the first request that needs it

    graph = provenance_services(call.deps).lineage(call.need_ctx(), call.params["node_id"], call.query.direction)
    return Lineage.model_validate(graph)  # dumped by alias: edges read {from, to}


@provenance.tenant("GET", "/provenance/verify", role=Role.MEMBER, response=m.Verification)
def verify_ledger(call: Call) -> Any:
    """Recompute the tenant's hash chain: ok, its length and head, or the first entry that fails."""
    return provenance_services(call.deps).verify(call.need_ctx())


@provenance.tenant("GET", "/provenance/c2pa/{artifact_id}", role=Role.VIEWER, response=m.C2paReport)
def get_c2pa(call: Call) -> Any:
    """The artifact's C2PA manifest, read back from its file and validated (Trusted, Valid or Invalid)."""
    return provenance_services(call.deps).c2pa(call.need_ctx(), call.params["artifact_id"])


ROUTERS = (provenance,)

"""The vector explorer: the scene (a projection of the tenant's cards) and a quick way to add cards."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.kernel.call import Call
from studio.kernel.model_refs import models
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.nexus.services import nexus_services

if TYPE_CHECKING:
    from studio.nexus import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.nexus.models")

explorer = Router("vector-explorer")


@explorer.tenant("GET", "/vector-explorer/scene", role=Role.VIEWER, query=m.SceneQuery, response=m.SceneOut)
def scene(call: Call) -> Any:
    """The tenant's cards projected to 2D or 3D (PCA), with k-means clusters and their labels."""
    ctx = call.need_ctx()
    return nexus_services(call.deps).explorer.scene(ctx.tenant_id, ctx.env, call.query.dims, call.query.limit)


@explorer.tenant("POST", "/vector-explorer/ingest", role=Role.MEMBER, body=m.ExplorerIngestIn,
                 response=m.ExplorerIngestOut, status=201)
def ingest(call: Call) -> Any:
    """Add up to 50 short texts as cards at once (embedded and indexed in one transaction)."""
    ctx = call.need_ctx()
    items = [(i.title, i.text, i.tags) for i in call.body.items]
    cards = nexus_services(call.deps).cards.create_many(ctx, items, {"kind": "person", "id": ctx.user_id})
    return {"cards": cards}

"""HTTP routes of the dataset_events function: /events/datasets* and /privacy/training-prefs,
plus the domain's memoised services factory."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.events import store_writer
from studio.events.logger import DatasetEventLogger
from studio.events.store_writer import DatasetEventWriter
from studio.events.training_prefs import TrainingPrefsRepo
from studio.kernel import errors
from studio.kernel.call import Call
from studio.kernel.deps import Deps, Slot
from studio.kernel.model_refs import models
from studio.kernel.query_spec import QuerySpec, Text, Time, page
from studio.kernel.roles import Role
from studio.kernel.routing import Router
from studio.ports.bus import Bus
from studio.ports.store import DocumentStore
from studio.privacy.services import privacy_services

if TYPE_CHECKING:
    from studio.events import models as m
else:  # named here, imported when a request first needs them (kernel/model_refs.py, decision 0082)
    m = models("studio.events.models")

# restates m.DatasetEventQuery so a plainly valid query needs no pydantic (kernel/query_spec.py, decision 0097)
DATASET_EVENTS = QuerySpec(m.DatasetEventQuery, {
    "surface": Text(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"),
    "agent": Text(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,127}$"),
    "since": Time(), "until": Time(), **page(500)}, ordered=(("since", "until"),))

# The writer's subscription as the local runtime names it (infra.localrun.event_delivery:
# "fn-" + function name). Deployments must keep the name for the stats route to find it.
WRITER_SUBSCRIPTION = "fn-" + store_writer.CONSUMER


@dataclass(frozen=True)
class EventsServices:
    prefs: TrainingPrefsRepo
    writer: DatasetEventWriter
    store: DocumentStore
    deps: Deps

    # The bus opens with the first event logged or stats read, not with a listing (decision 0099).
    @property
    def bus(self) -> Bus:
        return self.deps.bus

    @property
    def logger(self) -> DatasetEventLogger:
        return self.deps.memo(LOGGER, lambda: DatasetEventLogger(self.deps.bus, self.prefs))


EVENTS: Slot[EventsServices] = Slot("events")
LOGGER: Slot[DatasetEventLogger] = Slot("events.logger")


def events_services(deps: Deps) -> EventsServices:
    def build() -> EventsServices:
        return EventsServices(prefs=TrainingPrefsRepo(deps.store), writer=store_writer.writer_for(deps),
                              store=deps.store, deps=deps)

    return deps.memo(EVENTS, build)


datasets = Router("events")
privacy = Router("privacy")


@datasets.tenant("POST", "/events/datasets", role=Role.MEMBER, body=m.DatasetEventIn,
                 response=m.DatasetEventAccepted, status=202)
def log_event(call: Call) -> Any:
    """Log a DatasetEvent: refused (422 POLICY_BLOCKED) when it holds what the tenant's policy blocks; else PII
    is redacted, the caller's training preference applied, then it is queued."""
    ctx = call.need_ctx()
    body: m.DatasetEventIn = call.body
    # Only the block decision is the policy's here: every DatasetEvent is redacted whatever the policy says
    # (the logger's floor: training data never holds PII), so "allow" does not un-redact.
    privacy_services(call.deps).policy.check(ctx.tenant_id, ctx.env, [body.input, body.output, body.metadata, body.tags],
                                              where="dataset event")
    event_id = events_services(call.deps).logger.log(ctx, body)
    from studio.events.models import (
        DatasetEventAccepted,  # pydantic: loaded by the first request that needs it
    )

    return DatasetEventAccepted(event_id=event_id)


@datasets.tenant("GET", "/events/datasets", role=Role.ADMIN, query=DATASET_EVENTS,
                 response=m.DatasetEventPage)
def list_events(call: Call) -> Any:
    """Stored DatasetEvents, newest first, filtered by surface, agent and time range."""
    ctx = call.need_ctx()
    return store_writer.list_events(events_services(call.deps).store, ctx.tenant_id, ctx.env, call.query)


@datasets.tenant("GET", "/events/datasets/stats", role=Role.ADMIN, response=m.DatasetEventStats)
def event_stats(call: Call) -> Any:
    """Counts: events written and duplicates dropped (this tenant); platform-wide rejects and
    dead letters only for service identities (they span tenants)."""
    from studio.events.models import DatasetEventStats

    ctx = call.need_ctx()
    services = events_services(call.deps)
    return DatasetEventStats.model_validate({  # validated: ctx.env is a str, the field its Literal
        "tenant_id": ctx.tenant_id, "env": ctx.env,
        "counters": store_writer.read_counters(services.store, ctx.tenant_id, ctx.env),
        "rejected": store_writer.read_rejected(services.store) if ctx.is_system else None,
        "delivery": _delivery_stats(services.bus) if ctx.is_system else None,
    })


def _delivery_stats(bus: Any) -> m.DeliveryStats | None:
    """The bus's own counts, when it keeps them (the embedded bus does; not every adapter will)."""
    stats = getattr(bus, "stats", None)
    if not callable(stats):
        return None
    try:
        counts = stats(WRITER_SUBSCRIPTION)
    except errors.NotFound:  # no writer subscribed on this bus (e.g. the function runs alone)
        return None
    from studio.events.models import DeliveryStats

    known = set(DeliveryStats.model_fields) - {"subscription"}
    return DeliveryStats(subscription=WRITER_SUBSCRIPTION, **{k: int(v) for k, v in counts.items() if k in known})


@privacy.tenant("GET", "/privacy/training-prefs", role=Role.VIEWER, response=m.TrainingPrefs)
def get_training_prefs(call: Call) -> Any:
    """The caller's training preference here (rev 0 and train_ok false until they choose)."""
    ctx = call.need_ctx()
    return events_services(call.deps).prefs.get(ctx.tenant_id, ctx.env, ctx.user_id)


def training_prefs_rev(call: Call) -> int | None:
    """Never set reads as rev 0 (ETag "0"), so the first write states base_rev 0 like any other."""
    ctx = call.need_ctx()
    return events_services(call.deps).prefs.get(ctx.tenant_id, ctx.env, ctx.user_id).rev


@privacy.tenant("PUT", "/privacy/training-prefs", role=Role.VIEWER, body=m.TrainingPrefsIn,
                response=m.TrainingPrefs, revisioned=True, current_rev=training_prefs_rev)
def put_training_prefs(call: Call) -> Any:
    """Set the caller's training preference; needs If-Match or base_rev (0 for the first write)."""
    return events_services(call.deps).prefs.set_prefs(call.need_ctx(), call.body.train_ok, call.expected_rev())


ROUTERS = (datasets, privacy)

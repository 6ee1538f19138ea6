"""Simulated traffic for a running experiment: the console's demo and a dev-env smoke test.

Synthetic subjects go through the real enrolment (assignment, sticky document, exposure through
the outbox); each then converts with its variation's rate, and some report web vitals, published
to ``analytics.events`` as the analytics ingest would. Refused in prod: synthetic rows there would
pollute real results. Progress goes to the tenant's realtime meta channel.
"""
from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from studio.experiments import definitions
from studio.experiments.enrolment import Enrolment, subject_column
from studio.experiments.errors import SIMULATION_REFUSED
from studio.kernel import errors
from studio.kernel.clock import utc_now
from studio.kernel.context import RequestContext
from studio.kernel.meta import publish_meta
from studio.ports.analytics import TOPIC as ANALYTICS_TOPIC
from studio.ports.analytics import encode_message, message_attributes
from studio.ports.bus import Bus
from studio.ports.store import Document

VITALS_SHARE = 0.3
PROGRESS_EVERY = 100


def default_rates(n: int) -> list[float]:
    """10% for the control, each later variation 20% better than the one before."""
    return [min(1.0, 0.1 * 1.2 ** i) for i in range(n)]


def simulate(ctx: RequestContext, doc: Document, enrolment: Enrolment, bus: Bus, subjects: int,
             rates: list[float] | None, seed: int) -> dict[str, Any]:
    if ctx.env == "prod":
        raise errors.StudioError(SIMULATION_REFUSED, "simulated traffic is refused in prod")
    if doc.data["status"] != "running":
        raise errors.StudioError(SIMULATION_REFUSED, "start the experiment before simulating traffic")
    defn = definitions.definition(doc)
    n = len(defn.variation_keys)
    rates = rates or default_rates(n)
    if len(rates) != n:
        raise errors.StudioError(errors.VALIDATION_FAILED, f"one rate per variation ({n})")
    metric = doc.data["metric"]
    col = subject_column(defn.hash_attribute)
    rng = random.Random(f"{doc.doc_id}/{seed}")
    assigned = exposures = events = 0
    for i in range(subjects):
        subject = f"sim-{seed}-{i}"
        enrolled = enrolment.enrol(ctx.tenant_id, ctx.env, doc.doc_id, defn, {defn.hash_attribute: subject})
        if not enrolled.assignment.in_experiment:
            continue
        assigned += 1
        exposures += enrolled.exposed_now
        variation = enrolled.assignment.variation
        if metric is not None and metric.get("event") and rng.random() < rates[variation]:
            value = None if metric["kind"] == "rate" else round(rng.uniform(5, 120), 2)
            _publish(bus, ctx, col, subject, "custom", metric["event"], value, f"{seed}/{i}/metric")
            events += 1
        if rng.random() < VITALS_SHARE:
            slower = 1 + 0.05 * variation
            for name, value in (("LCP", rng.lognormvariate(7.6, 0.35) * slower),
                                ("INP", rng.lognormvariate(5.0, 0.5) * slower),
                                ("CLS", rng.betavariate(1.2, 20))):
                _publish(bus, ctx, col, subject, "web_vitals", name, round(value, 4), f"{seed}/{i}/{name}")
                events += 1
        if (i + 1) % PROGRESS_EVERY == 0 or i + 1 == subjects:
            publish_meta(bus, ctx.tenant_id, ctx.env, "experiments.simulation_progress",
                         {"experiment_id": doc.doc_id, "done": i + 1, "of": subjects})
    return {"subjects": subjects, "assigned": assigned, "exposures": exposures, "events": events}


def _publish(bus: Bus, ctx: RequestContext, col: str, subject: str, kind: str, name: str, value: float | None,
             salt: str) -> None:
    digest = hashlib.sha256(f"{ctx.tenant_id}/{ctx.env}/{subject}/{salt}".encode()).hexdigest()[:32]
    row = {"event_id": "sim_" + digest, "tenant_id": ctx.tenant_id, "env": ctx.env, "type": kind, "ts": utc_now(),
           col: subject, "name": name, "value": value, "props": json.dumps({"simulated": True})}
    bus.publish(ANALYTICS_TOPIC, encode_message(row), message_attributes(row))

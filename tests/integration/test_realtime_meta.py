"""The tenant-scoped meta channel: bus events reach that tenant's connections, no one else's, and any
capability publishes progress to it through one small API (``studio.kernel.meta``)."""
from __future__ import annotations

import json
import time

import httpx

from studio.kernel.meta import emit_meta, publish_meta
from studio.ports.store import Transaction
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SseReader, ws_connect


def test_meta_events_are_tenant_scoped(client: httpx.Client, owner: User, tenant: str,
                                       platform: RunningPlatform) -> None:
    other_user = new_user(client, "other")
    other_tenant = new_tenant(client, other_user, "Other")
    mine = SseReader(client, "/sse/meta", owner.in_tenant(tenant))
    theirs = SseReader(client, "/sse/meta", other_user.in_tenant(other_tenant))
    time.sleep(0.3)  # both subscribed before the event (a channel, not a log)
    publish_meta(platform.deps.bus, tenant, "dev", "render.progress", {"job": "j1", "percent": 40})
    mine.wait_for(lambda evs: any(e.event == "render.progress" for e in evs))
    publish_meta(platform.deps.bus, other_tenant, "dev", "render.progress", {"job": "j2", "percent": 10})
    theirs.wait_for(lambda evs: any(e.event == "render.progress" for e in evs))
    mine.close()
    theirs.close()
    assert [e.data["data"]["job"] for e in mine.events] == ["j1"]
    assert [e.data["data"]["job"] for e in theirs.events] == ["j2"]
    denied = client.get("/sse/meta", headers=other_user.in_tenant(tenant))
    assert denied.status_code == 403


def test_a_capability_reports_progress_to_sse_and_websocket_meta_streams(client: httpx.Client, owner: User,
                                                                        tenant: str,
                                                                        platform: RunningPlatform) -> None:
    """A synthetic media-ingest job: progress published at once, completion through the outbox
    (it commits with the job's own write), both delivered to every meta stream of the tenant."""
    sse = SseReader(client, "/sse/meta", owner.in_tenant(tenant))
    with ws_connect(platform.base_url, "/ws/meta", owner.in_tenant(tenant)) as ws:
        time.sleep(0.3)  # both subscribed before the events (a channel, not a log)
        job = f"tenants/{tenant}/envs/dev/media_jobs/mj_1"
        publish_meta(platform.deps.bus, tenant, "dev", "media.ingest_progress", {"job": "mj_1", "percent": 40})

        def finish(tx: Transaction) -> None:
            tx.put(job, {"state": "done"})
            emit_meta(tx, tenant, "dev", "media.ingested", {"job": "mj_1"}, subject=job)

        platform.deps.store.run_transaction(finish)
        platform.drain()  # the outbox relay publishes the second one
        frames = [json.loads(ws.recv(timeout=10)) for _ in range(2)]
    sse.wait_for(lambda evs: len(evs) >= 2)
    sse.close()
    assert [(f["type"], f["data"]["job"]) for f in frames] == [("media.ingest_progress", "mj_1"),
                                                              ("media.ingested", "mj_1")]
    assert [(e.event, e.data["data"]) for e in sse.events] == [
        ("media.ingest_progress", {"job": "mj_1", "percent": 40}), ("media.ingested", {"job": "mj_1"})]
    assert {f["tenant_id"] for f in frames} == {tenant} and frames[1]["subject"] == job

"""The tenant-scoped meta channel: bus events reach that tenant's connections, no one else's."""
from __future__ import annotations

import time

import httpx

from studio.realtime.meta import publish_meta
from tests.support.api import User, new_tenant, new_user
from tests.support.platform import RunningPlatform
from tests.support.realtime_clients import SseReader


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

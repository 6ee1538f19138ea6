"""The outbox_relay function, as Google Cloud runs it: a Firestore document-created
CloudEvent makes it publish every pending outbox entry to the bus, once."""
from __future__ import annotations

import json
import uuid

import httpx
from cloudevents.http import CloudEvent

from infra.localrun import loader
from infra.localrun import manifest as manifest_mod
from tests.support.api import new_user
from tests.support.platform import RunningPlatform


def _relay_fn():  # noqa: ANN202
    spec = next(s for s in manifest_mod.load().functions if s.name == "outbox_relay")
    assert spec.trigger == "firestore:outbox"
    return loader.entrypoint(spec)


def _created_event(kind: str = "google.cloud.firestore.document.v1.created") -> CloudEvent:
    return CloudEvent({"type": kind, "source": "//firestore.googleapis.com/projects/p/databases/(default)",
                       "id": uuid.uuid4().hex, "subject": "documents/outbox/x"}, None)


def test_relay_publishes_pending_domain_events(client: httpx.Client, platform: RunningPlatform) -> None:
    bus, store = platform.deps.bus, platform.deps.store
    sub = f"test-relay-{uuid.uuid4().hex[:8]}"
    bus.subscribe(sub, "domain.tenant")
    user = new_user(client)
    tenant = client.post("/auth/bootstrap", json={"tenant_name": "Relay"}, headers=user.auth).json()["tenant_id"]
    assert store.outbox_pending(), "the bootstrap wrote its event to the outbox"

    _relay_fn()(_created_event("google.cloud.firestore.document.v1.deleted"))  # not ours: ignored
    assert store.outbox_pending()
    _relay_fn()(_created_event())
    assert store.outbox_pending() == []
    events = [json.loads(d.message.data) for d in bus.pull(sub, 100)]
    created = [e for e in events if e["type"] == "tenant.created" and e["tenant_id"] == tenant]
    assert len(created) == 1 and created[0]["data"]["owner"] == user.user_id

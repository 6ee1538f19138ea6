"""Provenance test helpers: media-shaped domain events put on the real bus, and the ledger read back."""
from __future__ import annotations

import json
import uuid
from typing import Any

from studio.kernel.events import DomainEvent
from tests.support.platform import RunningPlatform

MEDIA_TOPIC = "domain.media"  # media's topic: the provenance writer's trigger (functions/manifest.yaml)


def ref(kind: str, ref_id: str, sha: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind, "id": ref_id, **extra}
    if sha is not None:
        out["sha256"] = sha
    return out


def record(action: str, subject: dict[str, Any], *, actor: tuple[str, str] = ("user", "u_test"),
           inputs: list[dict[str, Any]] | None = None, outputs: list[dict[str, Any]] | None = None,
           params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``provenance`` object media puts in its events' data (the brief's convention)."""
    return {"action": action, "actor": {"type": actor[0], "id": actor[1]},
            "subject": {"kind": subject["kind"], "id": subject["id"]},
            "inputs": inputs or [], "params": params or {}, "outputs": outputs or []}


def media_event(tenant_id: str, provenance: dict[str, Any] | None, *, env: str = "dev",
                event_type: str = "media.asset_ready") -> DomainEvent:
    data: dict[str, Any] = {"asset_id": "as_x"}
    if provenance is not None:
        data["provenance"] = provenance
    return DomainEvent(event_type, tenant_id, env, f"tenants/{tenant_id}/envs/{env}/media_assets/as_x", data)


def publish(platform: RunningPlatform, event: DomainEvent, *, times: int = 1, **attributes: str) -> None:
    """Publish ``event`` on media's topic as the outbox relay would (``times`` > 1: a redelivered copy
    under a new message id, the case Pub/Sub's at-least-once delivery makes)."""
    message = event.to_outbox(MEDIA_TOPIC)
    for _ in range(times):
        platform.deps.bus.publish(MEDIA_TOPIC, message.data, {**message.attributes, **attributes},
                                  ordering_key=message.ordering_key)


def raw_publish(platform: RunningPlatform, body: Any, attributes: dict[str, str]) -> None:
    platform.deps.bus.publish(MEDIA_TOPIC, json.dumps(body).encode(), attributes)


def sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"

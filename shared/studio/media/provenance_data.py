"""The ``provenance`` object every content-bearing media event carries, for the provenance
ledger to append (it subscribes to ``domain.media``; media never imports it)."""
from __future__ import annotations

from typing import Any, Literal

Action = Literal["upload", "derive", "edit", "delete", "register"]
ActorType = Literal["user", "agent", "tool", "system"]


def ref(kind: Literal["asset", "artifact"], ref_id: str, sha256: str | None) -> dict[str, Any]:
    return {"kind": kind, "id": ref_id, "sha256": sha256}


def provenance(action: Action, actor_type: ActorType, actor_id: str, subject: dict[str, Any], *,
               inputs: list[dict[str, Any]] | None = None, params: dict[str, Any] | None = None,
               outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"action": action, "actor": {"type": actor_type, "id": actor_id},
            "subject": {"kind": subject["kind"], "id": subject["id"]},
            "inputs": inputs or [], "params": params or {}, "outputs": outputs or []}

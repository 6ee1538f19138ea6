"""Helpers for the experiments tests: define and start an experiment with its flag, mint an SDK key."""
from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import User


def start_experiment(client: httpx.Client, owner: User, tenant: str, key: str, **fields: Any) -> dict[str, Any]:
    h = owner.in_tenant(tenant)
    body = {"key": key, "variations": [{"key": "control", "value": "blue"}, {"key": "treatment", "value": "green"}],
            "metric": {"event": "signup", "kind": "rate"}, **fields}
    r = client.post("/experiments", json=body, headers=h)
    assert r.status_code == 201, r.text
    created = r.json()
    r = client.patch(f"/experiments/{created['id']}", json={"status": "running"},
                     headers={**h, "If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text
    return dict(r.json())


def flag_for(client: httpx.Client, owner: User, tenant: str, key: str, experiment_id: str,
             default: Any = "grey") -> dict[str, Any]:
    h = owner.in_tenant(tenant)
    r = client.post("/flags", json={"key": key, "default_value": default,
                                    "rules": [{"kind": "experiment", "experiment_id": experiment_id}]}, headers=h)
    assert r.status_code == 201, r.text
    r = client.patch(f"/flags/{key}", json={"status": "running", "base_rev": 1}, headers=h)
    assert r.status_code == 200, r.text
    return dict(r.json())


def sdk_key(client: httpx.Client, owner: User, tenant: str) -> str:
    r = client.post("/flags/sdk-keys", json={"name": "web"}, headers=owner.in_tenant(tenant))
    assert r.status_code == 201, r.text
    return str(r.json()["key"])
